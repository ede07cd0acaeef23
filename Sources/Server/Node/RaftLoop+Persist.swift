import Foundation
import Raft

/// Persisting a Ready beside the loop's other work: on this thread during
/// the apply (a sole voter's small batches) or on `persister` while the
/// loop keeps replicating. Loop thread only.
extension RaftLoop {
    /// Whether `rd`'s new entries may be applied during their own fsync:
    /// this member is the only voter and leads, so persisting them commits
    /// them; nothing before them waits to be applied; all are normal
    /// entries of this term (a conf change changes who must agree). Only a
    /// small batch (few writers): under load the fsync of one batch beside
    /// the apply of the one before (`persister`) hides more, and the store
    /// commit would otherwise sit between two fsyncs.
    func appliesDuringSync(_ rd: Ready) -> Bool {
        guard rd.mustSync, let first = rd.entries.first, rd.entries.count <= Self.maxEntriesAppliedDuringSync,
              rd.snapshot?.isEmpty ?? true, applier != nil,
              role == .leader, confState.voters == [memberID], confState.learners.isEmpty,
              first.index == appliedIndex + 1, dispatchedIndex == appliedIndex,
              rd.committedEntries.allSatisfy({ $0.index <= appliedIndex }) else { return false }
        let term = node.term
        return rd.entries.allSatisfy { $0.type == .normal && $0.term == term }
    }

    /// Waits for `persister` to write and fsync the Ready being handled,
    /// and meanwhile keeps replication going (Raft thesis 10.2.1): new
    /// proposals are stepped, and on a leader its peers' acknowledgements of
    /// this term, so followers get new entries, and the commit index the two
    /// of them reach without this member's disk, during its fsync. Whatever
    /// may leave before the fsync (`RawNode.takeEarlyMessages`) is sent at
    /// once. Nothing is applied here, and the node hands out an entry to
    /// apply only once `advance` reported it durable on this member.
    func persistWhileReplicating() throws {
        // A sole voter's proposals wait in the mailbox for the next round:
        // stepping each as it comes would only cost a wake-up apiece.
        let alone = confState.voters == [memberID] && confState.learners.isEmpty
        while true {
            let leading = node.isLeader && carriedMessages.isEmpty
            // Parked proposals go first, in the loop's next round.
            let proposing = parked.isEmpty && !alone
            let (finished, proposals, messages) = condition.withLock {
                () -> (Bool, [(id: UInt64, data: [UInt8])], [Message]) in
                // Whatever would not end this wait need not wake it either:
                // a follower woken per message during its fsync would only
                // go back to sleep.
                proposalsWaitForPersist = !proposing
                messagesWaitForPersist = !leading
                while !persistFinished && !(proposing && !mailbox.proposals.isEmpty)
                    && !(leading && !mailbox.messages.isEmpty) {
                    condition.wait()
                }
                proposalsWaitForPersist = false
                messagesWaitForPersist = false
                let finished = persistFinished
                persistFinished = false
                var proposals: [(id: UInt64, data: [UInt8])] = []
                if proposing { swap(&proposals, &mailbox.proposals) }
                var messages: [Message] = []
                if leading { swap(&messages, &mailbox.messages) }
                return (finished, proposals, messages)
            }
            stepWhilePersisting(messages)
            for p in proposals { proposeOrPark(p) }
            if !messages.isEmpty { publishReadGrant() }  // they may have moved the commit index
            let early = node.takeEarlyMessages()
            if !early.isEmpty { transport.send(early) }
            if finished { return try persister.wait() }
        }
    }

    /// Steps a leader's peer messages that cannot end its leadership
    /// (`RawNode.mayStepWhilePersisting`), in order; from the first other one
    /// on, the rest wait for the loop's next round.
    private func stepWhilePersisting(_ messages: [Message]) {
        for (i, m) in messages.enumerated() {
            guard node.mayStepWhilePersisting(m) else {
                carriedMessages.append(contentsOf: messages[i...])
                return
            }
            try? node.step(m)
        }
    }

    static let maxEntriesAppliedDuringSync = 8
}
