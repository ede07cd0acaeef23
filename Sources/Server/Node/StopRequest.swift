import Foundation

/// Why a member stops.
public enum StopReason: Sendable, Equatable {
    /// SIGTERM or SIGINT, by Go's name for it (`terminated`, `interrupt`).
    case signal(String)
    /// This member was removed from the cluster (MemberRemove applied).
    case removed
}

/// Asks the executable to stop the member: fired by the signal handler or
/// by the server itself when it learns it was removed; the first reason
/// wins, later ones are ignored.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: StopReason?  // guarded by `lock`
    private var waiter: CheckedContinuation<StopReason, Never>?  // guarded by `lock`

    public init() {}

    /// Returns whether this was the first request.
    @discardableResult
    public func fire(_ why: StopReason) -> Bool {
        let woken = lock.withLock { () -> CheckedContinuation<StopReason, Never>? in
            guard reason == nil else { return nil }
            reason = why
            defer { waiter = nil }
            return waiter
        }
        woken?.resume(returning: why)
        return lock.withLock { reason == why }
    }

    /// Suspends until the first `fire`. One waiter (the executable's main).
    public func wait() async -> StopReason {
        await withCheckedContinuation { (continuation: CheckedContinuation<StopReason, Never>) in
            lock.lock()
            if let reason {
                lock.unlock()
                continuation.resume(returning: reason)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}
