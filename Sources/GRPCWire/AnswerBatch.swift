#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Answers given on one thread while it answers many at once (the Raft loop
/// applying a batch of writes, or serving a ReadIndex round), handed to
/// their connections' event loops together when that phase ends: one task
/// per event loop instead of one per answer.
///
/// Why: handing each answer over on its own (`EventLoop.execute`) wakes an
/// idle loop with the first one (an eventfd write); on a machine with few
/// cores the woken loop then often preempts the answering thread and runs,
/// encodes and writes that one answer alone, and is woken again for the
/// next. Handed over together, a loop runs the whole batch in one turn and
/// writes each connection's answers once.
///
/// Only the thread inside `collect` batches; answers given elsewhere (or
/// outside it) go to their loop at once, as before. Answers are only ever
/// delayed to the end of the phase, never sent earlier.
public final class AnswerBatch {
    /// Per loop, in the order loops were first answered to; each loop's work in answer order.
    private var pending: [(loop: any EventLoop, work: [() -> Void])] = []
    private var pendingCount = 0
    private var open = false
    /// Handed over before the phase ends once this many wait: a long phase
    /// (a follower applying a large catch-up batch) does not hold them all.
    static let maxPending = 256

    private init() {}

    /// Runs `body`; answers given on this thread meanwhile (`execute`) reach
    /// their loops when it returns (or throws), one task per loop.
    /// Nested calls join the outer phase.
    public static func collect<R>(_ body: () throws -> R) rethrows -> R {
        let batch = current()
        if batch.open { return try body() }
        batch.open = true
        defer {
            batch.open = false
            batch.deliver()
        }
        return try body()
    }

    /// Runs `work` on `loop`: at the end of this thread's `collect` if one is
    /// open, else handed over now.
    static func execute(on loop: any EventLoop, _ work: @escaping () -> Void) {
        guard let batch = existing(), batch.open else {
            loop.execute(work)
            return
        }
        if let i = batch.pending.firstIndex(where: { $0.loop === loop }) {
            batch.pending[i].work.append(work)
        } else {
            batch.pending.append((loop, [work]))
        }
        batch.pendingCount += 1
        if batch.pendingCount >= maxPending { batch.deliver() }
    }

    private func deliver() {
        guard !pending.isEmpty else { return }
        let groups = pending
        pending.removeAll(keepingCapacity: true)
        pendingCount = 0
        for group in groups {
            let work = group.work
            if work.count == 1 {
                group.loop.execute(work[0])
            } else {
                group.loop.execute { for w in work { w() } }
            }
        }
    }

    // MARK: the thread's batch (pthread-specific: one per thread that ever collects)

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, { raw in
            if let raw { Unmanaged<AnswerBatch>.fromOpaque(raw).release() }
        }) == 0)
        return key
    }()

    private static func existing() -> AnswerBatch? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<AnswerBatch>.fromOpaque(raw).takeUnretainedValue()
    }

    private static func current() -> AnswerBatch {
        if let batch = existing() { return batch }
        let batch = AnswerBatch()
        pthread_setspecific(key, Unmanaged.passRetained(batch).toOpaque())
        return batch
    }
}
