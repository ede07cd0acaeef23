import Foundation
import Raft
import Support

/// Requests from any thread: they queue in `mailbox` and wake the loop.
extension RaftLoop {
    func propose(id: UInt64, data: [UInt8]) {
        let wake = condition.withLock {
            mailbox.proposals.append((id, data))
            return !proposalsWaitForPersist
        }
        // After unlocking: a loop woken while this thread still held the
        // lock would only block on it again (one more sleep and wake-up per
        // proposal). The mailbox changed under the lock, so no wake-up is lost.
        if wake { condition.signal() }
    }

    /// Proposes as the leader of `term` only: when the loop takes it, a
    /// member that is not (or no longer) that leader drops it (its request
    /// fails with "raft proposal dropped") instead of forwarding it. For what
    /// a leader decides from its own clock: a leader paused past an election
    /// that resumes as a follower would otherwise forward revokes of leases
    /// the new leader keeps alive (etcd issue 15247). Appended at `term` by a
    /// leader the others have left, it can never commit.
    func proposeAsLeader(id: UInt64, data: [UInt8], term: UInt64) {
        condition.withLock {
            mailbox.leaderProposals.append((id, data, term))
            condition.signal()
        }
    }

    /// `waitLinearizable` would return at once: the local read gate is open.
    var servesReadsLocally: Bool {
        // Acquiring pairs with the loop's release after the store applied.
        readsLocally.load(ordering: .acquiring)
    }

    /// Waits until this member may serve a linearizable read: the leader
    /// confirmed its commit index and this member applied up to it.
    /// Fails with "request timed out" after `timeoutSeconds`; with no leader
    /// known meanwhile it waits for one (the ReadIndex is resent until one
    /// answers).
    func waitLinearizable(timeoutSeconds: Double) async throws {
        if servesReadsLocally { return }
        let deadline = MonotonicClock.deadline(afterSeconds: timeoutSeconds)
        let batch = nextReadBatch()
        _ = try await readWaits.wait(id: batch) { queueRead(batch, deadline) }
    }

    /// `waitLinearizable` without a task: `done` runs once, on the Raft loop
    /// thread, with nil when the read may be served or the error
    /// ("request timed out", "server stopped", `CancellationError` once
    /// withdrawn); the returned hook withdraws the wait. The caller checks
    /// `servesReadsLocally` first: this always waits for a ReadIndex round.
    func registerLinearizable(timeoutSeconds: Double,
                              done: @escaping @Sendable (Error?) -> Void) -> @Sendable () -> Void {
        let deadline = MonotonicClock.deadline(afterSeconds: timeoutSeconds)
        let batch = nextReadBatch()
        let waits = readWaits
        // `queueRead` cannot throw, so `register` does not either.
        try? waits.register(id: batch, done: { result in
            switch result {
            case .success: done(nil)
            case .failure(let error): done(error)
            }
        }) { queueRead(batch, deadline) }
        return { waits.cancel(id: batch) }
    }

    private func nextReadBatch() -> UInt64 {
        condition.withLock { () -> UInt64 in
            readBatchSeq &+= 1
            return readBatchSeq
        }
    }

    /// Hands read `batch` to the loop (woken only when no ReadIndex is in
    /// flight: its answer wakes the loop, and the read joins the next one).
    private func queueRead(_ batch: UInt64, _ deadline: UInt64) {
        condition.withLock {
            mailbox.reads.append((batch, deadline))
            if !readInFlight { condition.signal() }
        }
    }

    /// A peer transport's report (unreachable peer, failed snapshot).
    func report(_ report: PeerReport) {
        condition.withLock {
            mailbox.reports.append(report)
            condition.signal()
        }
    }

    /// Asks Raft to hand leadership to `transferee` (effective on a leader only;
    /// the caller watches `status.leader` for the outcome).
    func transferLeader(to transferee: UInt64) {
        condition.withLock {
            mailbox.transfers.append(transferee)
            condition.signal()
        }
    }

    /// Proposes a membership change; `dropped` runs (on the loop thread) if
    /// Raft refuses it. Raft takes one change at a time.
    func proposeConfChange(_ cc: ConfChange, dropped: @escaping (ServerError) -> Void) {
        condition.withLock {
            mailbox.confChanges.append((cc, dropped))
            condition.signal()
        }
    }

    /// Fast-forwards Raft's logical clock by `ticks` (etcd's advanceTicks):
    /// a freshly started follower then campaigns after a tick or two
    /// instead of a whole election timeout.
    func advanceTicks(_ ticks: Int) {
        condition.withLock {
            mailbox.advanceTicks += max(0, ticks)
            condition.signal()
        }
    }

    /// Peer messages, on the connection's thread. On a leader, a follower's
    /// ReadIndex that its `ReadIndexGrant` answers is answered here, so a
    /// stream of follower reads does not wake the loop once per request.
    func deliver(_ messages: [Message]) {
        var rest = messages
        if messages.contains(where: { $0.type == .readIndex }), let grant = statusLock.withLock({ readGrant }) {
            var answers: [Message] = []
            rest.removeAll { m in
                guard let answer = grant.answer(m) else { return false }
                answers.append(answer)
                return true
            }
            if !answers.isEmpty { transport.send(answers) }
            if rest.isEmpty { return }
        }
        let wake = condition.withLock {
            mailbox.messages.append(contentsOf: rest)
            return !messagesWaitForPersist
        }
        if wake { condition.signal() }  // after unlocking, as `propose` does
    }
}
