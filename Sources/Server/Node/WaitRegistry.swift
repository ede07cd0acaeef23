import Foundation

/// Callers waiting for a result by ID: a proposal's apply result, or a
/// ReadIndex batch. The Raft loop triggers; the caller's task cancellation
/// (its gRPC deadline) removes the waiter and throws `CancellationError`.
/// Triggers for IDs nobody registered (entries proposed by another member)
/// are ignored, so the table holds only this member's in-flight requests.
final class WaitRegistry<Value: Sendable>: @unchecked Sendable {
    private enum Slot {
        case registered
        case waiting(CheckedContinuation<Value, Error>)
        case done(Result<Value, Error>)
    }

    private let lock = NSLock()
    private var slots: [UInt64: Slot] = [:]  // guarded by `lock`

    /// Registers `id`, runs `start` (which must eventually lead to
    /// `trigger(id:)`), and suspends until the result arrives or the task is
    /// cancelled.
    func wait(id: UInt64, start: () throws -> Void) async throws -> Value {
        lock.withLock { slots[id] = .registered }
        do { try start() } catch {
            lock.withLock { _ = slots.removeValue(forKey: id) }
            throw error
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, Error>) in
                lock.lock()
                switch slots[id] {
                case .done(let result):
                    slots.removeValue(forKey: id)
                    lock.unlock()
                    continuation.resume(with: result)
                case .registered:
                    slots[id] = .waiting(continuation)
                    lock.unlock()
                case .waiting, nil:  // nil: cancelled before we got here
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            lock.lock()
            let slot = slots.removeValue(forKey: id)
            lock.unlock()
            if case .waiting(let continuation) = slot { continuation.resume(throwing: CancellationError()) }
        }
    }

    func trigger(id: UInt64, _ result: Result<Value, Error>) {
        lock.lock()
        switch slots[id] {
        case .waiting(let continuation):
            slots.removeValue(forKey: id)
            lock.unlock()
            continuation.resume(with: result)
        case .registered:
            slots[id] = .done(result)
            lock.unlock()
        case .done, nil:
            lock.unlock()
        }
    }

    func isRegistered(_ id: UInt64) -> Bool { lock.withLock { slots[id] != nil } }

    func lockedIDs() -> [UInt64] { lock.withLock { Array(slots.keys) } }

    /// Fails every waiter, e.g. on shutdown or when leadership is lost.
    func failAll(_ error: Error) {
        lock.lock()
        let all = slots
        slots.removeAll()
        lock.unlock()
        for case .waiting(let c) in all.values { c.resume(throwing: error) }
    }
}

extension WaitRegistry {
    /// Triggers every registered ID ≤ `upTo` (ReadIndex batches are numbered
    /// in the order they were asked for).
    func triggerAll(upTo: UInt64, _ result: Result<Value, Error>) {
        let ids = lockedIDs().filter { $0 <= upTo }
        for id in ids { trigger(id: id, result) }
    }
}
