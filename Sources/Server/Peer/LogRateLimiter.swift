import Foundation
import Support

/// Lets a repeated log line through at most once per interval per key and
/// counts what it held back, so a peer that keeps failing the same way (TLS
/// refused, hello rejected) leaves a line every few seconds rather than one
/// per dial. etcd's rafthttp logs such failures when a peer's state changes,
/// not per attempt. Thread-safe; at most `maxKeys` keys are remembered (keys
/// can carry a peer's values, so their number is bounded).
final class LogRateLimiter: @unchecked Sendable {
    let intervalNanos: UInt64
    static let maxKeys = 256
    private let lock = NSLock()
    private var seen: [String: (at: UInt64, held: Int)] = [:]  // guarded by `lock`

    init(intervalSeconds: Double = 10) {
        intervalNanos = UInt64(max(0, intervalSeconds) * 1e9)
    }

    /// nil: hold this line back. Otherwise log it, saying how many lines
    /// with this key were held back since the last one logged.
    func admit(_ key: String, now: UInt64 = MonotonicClock.nanoseconds()) -> Int? {
        lock.withLock {
            if let last = seen[key], now &- last.at < intervalNanos {
                seen[key] = (last.at, last.held + 1)
                return nil
            }
            if seen[key] == nil && seen.count >= Self.maxKeys { seen.removeAll() }
            let held = seen[key]?.held ?? 0
            seen[key] = (now, 0)
            return held
        }
    }
}
