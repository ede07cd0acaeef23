import Foundation

/// A one-shot broadcast: `fire()` once, every `wait()` (past and future)
/// returns. The server uses one for "stopping" (long-lived calls wait on it
/// next to their own work, so a stop ends them at once instead of leaving
/// each connection's drain to run into its deadline) and one for "ready".
final class OneShotSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false  // guarded by `lock`
    private var nextID: UInt64 = 0  // guarded by `lock`
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]  // guarded by `lock`
    /// Waiters cancelled before they suspended (guarded by `lock`).
    private var cancelled: Set<UInt64> = []

    var isFired: Bool { lock.withLock { fired } }

    /// Wakes every waiter, now and later. True for the call that fired it first.
    @discardableResult
    func fire() -> Bool {
        let (first, woken) = lock.withLock { () -> (Bool, [CheckedContinuation<Void, Never>]) in
            let first = !fired
            fired = true
            defer { waiters.removeAll() }
            return (first, Array(waiters.values))
        }
        for continuation in woken { continuation.resume() }
        return first
    }

    /// Returns once `fire()` ran, or when the calling task is cancelled.
    func wait() async {
        let id = lock.withLock { () -> UInt64 in
            nextID &+= 1
            return nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if fired || cancelled.remove(id) != nil {
                    lock.unlock()
                    continuation.resume()
                } else {
                    waiters[id] = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let continuation = waiters.removeValue(forKey: id)
            if continuation == nil { cancelled.insert(id) }
            lock.unlock()
            continuation?.resume()
        }
    }
}
