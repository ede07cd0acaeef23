import Foundation

/// Bounds how many `Maintenance.Snapshot` streams read the store at once.
/// Each open stream holds a read view, which keeps LMDB from reusing the
/// pages written meanwhile; callers past the bound wait (holding nothing)
/// until a stream ends, and stop waiting when their client leaves (task
/// cancellation).
final class SnapshotStreamLimiter: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var running = 0  // guarded by `lock`
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []  // guarded by `lock`
    private var nextID: UInt64 = 0  // guarded by `lock`

    init(limit: Int) { self.limit = max(1, limit) }

    /// Waits for a slot; throws CancellationError if the task is cancelled first.
    func acquire() async throws {
        let id: UInt64 = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                // Under the lock, so a cancellation either sees the waiter
                // queued or comes before this check (the flag is set first).
                let outcome: Result<Bool, Error> = lock.withLock {
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if running < limit && waiters.isEmpty {
                        running += 1
                        return .success(true)
                    }
                    waiters.append((id, c))
                    return .success(false)
                }
                switch outcome {
                case .success(true): c.resume()
                case .success(false): break
                case .failure(let e): c.resume(throwing: e)
                }
            }
        } onCancel: {
            let c: CheckedContinuation<Void, Error>? = lock.withLock {
                guard let i = waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return waiters.remove(at: i).continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Gives a slot back (to the longest waiter if there is one).
    func release() {
        let next: CheckedContinuation<Void, Error>? = lock.withLock {
            if waiters.isEmpty {
                running -= 1
                return nil
            }
            return waiters.removeFirst().continuation  // the slot passes on: `running` unchanged
        }
        next?.resume()
    }

    /// Streams running and waiting (for tests and metrics).
    var counts: (running: Int, waiting: Int) { lock.withLock { (running, waiters.count) } }
}
