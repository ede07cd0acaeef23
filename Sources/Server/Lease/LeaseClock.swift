import Foundation
import Support

/// Where the lessor reads time: seconds on a monotonic clock. Tests inject
/// a manual clock to expire leases without waiting.
protocol LeaseClock: Sendable {
    func nowSeconds() -> Double
}

struct MonotonicLeaseClock: LeaseClock {
    func nowSeconds() -> Double { Double(MonotonicClock.nanoseconds()) / 1e9 }
}
