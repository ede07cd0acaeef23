import Foundation
import NIOCore

/// Callers waiting for a result by ID: a proposal's apply result, or a
/// ReadIndex batch. The Raft loop triggers; the caller's task cancellation
/// (its gRPC deadline) removes the waiter and throws `CancellationError`.
/// Triggers for IDs nobody registered (entries proposed by another member)
/// are ignored, so the table holds only this member's in-flight requests.
///
/// Timeouts need no timer per request: a wait with a deadline puts
/// (deadline, ID) in `deadlines`, which `expire` (called on every Raft loop
/// tick) sweeps from the front. A request answered in time costs nothing
/// more: its entry is dropped when the sweep reaches it (the trigger finds no
/// waiter). IDs are never reused, so a stale entry cannot hit a new request.
final class WaitRegistry<Value: Sendable>: @unchecked Sendable {
    /// A waiting continuation is resumed only by whoever removes its slot
    /// under `lock` (trigger, cancellation, `failAll`), so exactly once: an
    /// unsafe continuation does, without the checked one's extra object per
    /// request.
    private enum Slot {
        case registered
        case waiting(UnsafeContinuation<Value, Error>)
        case done(Result<Value, Error>)
        /// A waiter without a task (`register`): called instead of a resume.
        case callback(@Sendable (Result<Value, Error>) -> Void)
    }

    private let lock = NSLock()
    private var slots: [UInt64: Slot] = [:]  // guarded by `lock`
    /// Pending deadlines in order (uptime ns, ID) from `deadlineHead` on;
    /// guarded by `lock`. Callers of one registry mostly share one timeout,
    /// so a new deadline nearly always goes at the end.
    private var deadlines: [(uptimeNanos: UInt64, id: UInt64)] = []
    private var deadlineHead = 0

    /// Registers `id`, runs `start` (which must eventually lead to
    /// `trigger(id:)`), and suspends until the result arrives, the task is
    /// cancelled, or `deadline` passes (then `expire` fails it).
    func wait(id: UInt64, deadline: NIODeadline? = nil, start: () throws -> Void) async throws -> Value {
        lock.withLock {
            slots[id] = .registered
            if let deadline { addDeadline(deadline.uptimeNanoseconds, id) }
        }
        do { try start() } catch {
            lock.withLock { _ = slots.removeValue(forKey: id) }
            throw error
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, Error>) in
                lock.lock()
                switch slots[id] {
                case .done(let result):
                    slots.removeValue(forKey: id)
                    lock.unlock()
                    continuation.resume(with: result)
                case .registered:
                    slots[id] = .waiting(continuation)
                    lock.unlock()
                case .waiting, .callback, nil:  // nil: cancelled before we got here
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

    /// `wait` without a task: registers `id` with `done`, runs `start`, and
    /// returns. `done` is called exactly once, on whichever thread triggers,
    /// expires, cancels (`cancel(id:)`) or fails it; not at all when `start`
    /// throws (the registration is removed and the error rethrown).
    func register(id: UInt64, deadline: NIODeadline? = nil, done: @escaping @Sendable (Result<Value, Error>) -> Void,
                  start: () throws -> Void) throws {
        lock.withLock {
            slots[id] = .callback(done)
            if let deadline { addDeadline(deadline.uptimeNanoseconds, id) }
        }
        do { try start() } catch {
            lock.withLock { _ = slots.removeValue(forKey: id) }
            throw error
        }
    }

    /// What a waiting task's cancellation does, for a `register`ed waiter:
    /// removes it and fails it with `CancellationError` (nothing once answered).
    func cancel(id: UInt64) {
        lock.lock()
        let slot = slots.removeValue(forKey: id)
        lock.unlock()
        switch slot {
        case .waiting(let continuation): continuation.resume(throwing: CancellationError())
        case .callback(let done): done(.failure(CancellationError()))
        case .registered, .done, nil: break
        }
    }

    func trigger(id: UInt64, _ result: Result<Value, Error>) {
        lock.lock()
        switch slots[id] {
        case .waiting(let continuation):
            slots.removeValue(forKey: id)
            lock.unlock()
            continuation.resume(with: result)
        case .callback(let done):
            slots.removeValue(forKey: id)
            lock.unlock()
            done(result)
        case .registered:
            slots[id] = .done(result)
            lock.unlock()
        case .done, nil:
            lock.unlock()
        }
    }

    /// Fails every wait whose deadline has passed with `error`.
    func expire(now: NIODeadline = .now(), _ error: Error) {
        expire(now: now) { _ in error }
    }

    /// Fails every wait whose deadline has passed with `error(id)`.
    func expire(now: NIODeadline = .now(), _ error: (UInt64) -> Error) {
        let due = lock.withLock { () -> [UInt64] in
            var due: [UInt64] = []
            while deadlineHead < deadlines.count && deadlines[deadlineHead].uptimeNanos <= now.uptimeNanoseconds {
                due.append(deadlines[deadlineHead].id)
                deadlineHead += 1
            }
            if deadlineHead >= 1024 && deadlineHead * 2 >= deadlines.count {
                deadlines.removeFirst(deadlineHead)
                deadlineHead = 0
            }
            return due
        }
        for id in due { trigger(id: id, .failure(error(id))) }
    }

    /// Keeps `deadlines` ordered; call with `lock` held.
    private func addDeadline(_ uptimeNanos: UInt64, _ id: UInt64) {
        if deadlines.count == deadlineHead || deadlines[deadlines.count - 1].uptimeNanos <= uptimeNanos {
            deadlines.append((uptimeNanos, id))
            return
        }
        // Rare: a shorter timeout than a pending one (a forwarded promote's rest).
        var i = deadlines.count
        while i > deadlineHead && deadlines[i - 1].uptimeNanos > uptimeNanos { i -= 1 }
        deadlines.insert((uptimeNanos, id), at: i)
    }

    func isRegistered(_ id: UInt64) -> Bool { lock.withLock { slots[id] != nil } }

    func lockedIDs() -> [UInt64] { lock.withLock { Array(slots.keys) } }

    /// Waiters registered now (etcd_server_proposals_pending), without copying their IDs.
    var count: Int { lock.withLock { slots.count } }

    /// Fails every waiter, e.g. on shutdown or when leadership is lost.
    func failAll(_ error: Error) {
        lock.lock()
        let all = slots
        slots.removeAll()
        deadlines.removeAll()
        deadlineHead = 0
        lock.unlock()
        for slot in all.values {
            switch slot {
            case .waiting(let c): c.resume(throwing: error)
            case .callback(let done): done(.failure(error))
            case .registered, .done: break
            }
        }
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

extension NIODeadline {
    /// `seconds` from now (a negative or non-finite amount is now; a huge one
    /// saturates at ~292 years).
    static func after(seconds: Double) -> NIODeadline {
        guard seconds.isFinite, seconds > 0 else { return .now() }
        let nanos = seconds * 1e9
        return .now() + .nanoseconds(nanos >= Double(Int64.max / 2) ? Int64.max / 2 : Int64(nanos))
    }
}
