import Atomics
import Support

/// A monotonically increasing count, safe from any thread: `add` is one
/// relaxed atomic add (no lock, no allocation), cheap enough for the put path.
final class MetricCounter: Sendable {
    private let value = ManagedAtomic<UInt64>(0)

    init() {}

    @inline(__always)
    func add(_ n: UInt64 = 1) { value.wrappingIncrement(by: n, ordering: .relaxed) }

    var count: UInt64 { value.load(ordering: .relaxed) }
}

/// A Prometheus histogram of durations with fixed upper bounds (seconds).
/// `observe` finds the bucket by a short linear scan and does three relaxed
/// atomic adds; no lock, no allocation. Buckets are stored non-cumulative;
/// `snapshot` accumulates them and derives the count from them, so a scrape
/// always shows `_count` equal to the `+Inf` bucket.
final class MetricHistogram: Sendable {
    /// Upper bounds in seconds, ascending (the implicit `+Inf` excluded).
    let upperBoundsSeconds: [Double]
    private let upperBoundsNanos: [UInt64]
    /// One per bound plus the `+Inf` overflow bucket.
    private let buckets: [ManagedAtomic<UInt64>]
    private let sumNanos = ManagedAtomic<UInt64>(0)

    init(upperBoundsSeconds: [Double]) {
        precondition(upperBoundsSeconds == upperBoundsSeconds.sorted(), "histogram bounds must ascend")
        self.upperBoundsSeconds = upperBoundsSeconds
        upperBoundsNanos = upperBoundsSeconds.map { UInt64(($0 * 1e9).rounded()) }
        buckets = (0...upperBoundsSeconds.count).map { _ in ManagedAtomic<UInt64>(0) }
    }

    func observe(nanoseconds: UInt64) {
        var i = 0
        while i < upperBoundsNanos.count && nanoseconds > upperBoundsNanos[i] { i += 1 }
        buckets[i].wrappingIncrement(ordering: .relaxed)
        sumNanos.wrappingIncrement(by: nanoseconds, ordering: .relaxed)
    }

    func observe(seconds: Double) { observe(nanoseconds: UInt64(max(0, seconds) * 1e9)) }

    /// Times `body` and records its duration.
    @inline(__always)
    func time<T>(_ body: () throws -> T) rethrows -> T {
        let start = MonotonicClock.nanoseconds()
        defer { observe(nanoseconds: MonotonicClock.nanoseconds() &- start) }
        return try body()
    }

    struct Snapshot: Equatable {
        /// Cumulative counts per bound, then `+Inf`.
        var cumulative: [UInt64]
        var sumSeconds: Double
        var count: UInt64 { cumulative.last ?? 0 }
    }

    func snapshot() -> Snapshot {
        var running: UInt64 = 0
        let cumulative = buckets.map { b -> UInt64 in
            running &+= b.load(ordering: .relaxed)
            return running
        }
        return Snapshot(cumulative: cumulative, sumSeconds: Double(sumNanos.load(ordering: .relaxed)) / 1e9)
    }

    /// Prometheus' `ExponentialBuckets(start, factor, count)`.
    static func exponentialBounds(start: Double, factor: Double, count: Int) -> [Double] {
        var out: [Double] = []
        var v = start
        for _ in 0..<count {
            out.append(v)
            v *= factor
        }
        return out
    }

    /// Prometheus' `DefBuckets` (go-grpc-prometheus handling-time histograms).
    static let defaultBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
}
