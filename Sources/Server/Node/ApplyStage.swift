import Foundation
import GRPCWire
import Raft
import Support

/// The apply thread (`raft-apply`) of a member with peers: applies the
/// committed entries the Raft loop hands over, in log order, beside the
/// loop, so the loop keeps ticking, heartbeating, voting and replicating
/// while a long apply runs. Applied on the loop, a DeleteRange of 300,000
/// keys (seconds) kept a leader from heartbeating past the election
/// timeout and cost it its leadership; etcd 3.5 applies beside its Raft
/// node too (`applyAll` on its FIFO scheduler).
///
/// The loop `enqueue`s each Ready's committed entries and goes on; after
/// each job the stage reports the last index applied (`onApplied`, on this
/// thread), and the loop serves the reads, snapshots and status that wait
/// on the applied index. Whatever the loop must apply itself (a conf change,
/// a snapshot from the leader, a sole voter's entries) waits for `drain`
/// first, so everything is still applied exactly once, in log order.
final class ApplyStage: @unchecked Sendable {
    private let applier: CommittedEntryApplier
    private let condition = NSCondition()
    private var queue = ApplyQueue()  // guarded by `condition`
    /// A job is being applied. Guarded by `condition`.
    private var busy = false
    private var stopping = false  // guarded by `condition`
    private let stopped = Latch()
    private var thread: Thread?
    /// Runs on the apply thread after each job with its last index, once
    /// its entries are applied and their proposers answered (set before `start`).
    var onApplied: (UInt64) -> Void = { _ in }

    init(applier: CommittedEntryApplier) {
        self.applier = applier
    }

    func start(name: String) {
        let t = Thread.named(name) { [self] in run() }
        thread = t
        t.start()
    }

    /// Hands `entries` (committed, after everything handed before) over to
    /// be applied, answered with `term`.
    func enqueue(_ entries: [Entry], term: UInt64) {
        guard !entries.isEmpty else { return }
        condition.withLock {
            queue.append(entries, term: term)
            condition.broadcast()
        }
    }

    /// Nothing handed over waits or is being applied.
    var isIdle: Bool { condition.withLock { queue.isEmpty && !busy } }

    /// Waits until everything handed over is applied (and reported).
    func drain() {
        condition.withLock {
            while !queue.isEmpty || busy { condition.wait() }
        }
    }

    /// Applies what is queued, then ends the thread (after the loop's last `enqueue`).
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        if thread != nil { stopped.wait() }
    }

    private func run() {
        while true {
            let job: ApplyQueue.Job? = condition.withLock {
                while queue.isEmpty && !stopping { condition.wait() }
                let job = queue.take()
                busy = job != nil
                return job
            }
            guard let job else { break }
            // The answers go to their connections' loops together (`AnswerBatch`).
            AnswerBatch.collect { applier.apply(job.entries, term: job.term) }
            onApplied(job.lastIndex)
            condition.withLock {
                busy = false
                condition.broadcast()
            }
        }
        stopped.open()
    }
}
