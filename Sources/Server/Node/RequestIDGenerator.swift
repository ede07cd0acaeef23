import Atomics
import Foundation

/// Unique request IDs across members and restarts, shaped as etcd's: the low
/// 16 bits of the member ID on top, then a millisecond timestamp taken at
/// start-up followed by a counter, so IDs never repeat after a restart.
final class RequestIDGenerator: Sendable {
    private let prefix: UInt64
    private let counter: ManagedAtomic<UInt64>

    init(memberID: UInt64, now: Date = Date()) {
        prefix = (memberID & 0xffff) << 48
        let millis = UInt64(now.timeIntervalSince1970 * 1000) & 0xff_ffff_ffff
        counter = ManagedAtomic(millis << 8)
    }

    func next() -> UInt64 {
        prefix | (counter.loadThenWrappingIncrement(ordering: .relaxed) & 0xffff_ffff_ffff)
    }
}
