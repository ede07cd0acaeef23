import Atomics
import Foundation
import GRPCWire
import Raft

/// Applying committed entries (conf changes here, the rest by `applier`,
/// on this thread or beside it: `ApplyRoute`) and publishing what other
/// threads read: `status`, the read grant and the local read gate. Loop
/// thread only.
extension RaftLoop {
    func apply(_ entries: [Entry]) {
        // Entries applied during their own fsync come again once committed.
        guard let last = entries.last, last.index > dispatchedIndex else { return }
        let fresh = entries.first!.index > dispatchedIndex ? entries : entries.filter { $0.index > dispatchedIndex }
        dispatchedIndex = last.index
        if let applyStage, ApplyRoute.of(fresh, confState: confState, memberID: memberID) == .beside {
            applyStage.enqueue(fresh, term: node.term)
            return
        }
        applyStage?.drain()
        applyHere(fresh)
        appliedIndex = max(appliedIndex, last.index)
    }

    /// Applies `entries` on the loop thread (nothing is applied beside it).
    private func applyHere(_ entries: [Entry]) {
        var normal: [Entry] = []
        normal.reserveCapacity(entries.count)
        for e in entries {
            if e.type == .confChange {
                if let cc = try? ConfChange(decoding: e.data) {
                    // Who answers with whom changes: withdrawn until the loop takes it again.
                    statusLock.withLock { readGrant = nil }
                    confState = node.applyConfChange(cc)
                    // Before the next Ready sends anything to a new member.
                    if confState.voters != [memberID] || !confState.learners.isEmpty {
                        readsLocally.store(false, ordering: .releasing)
                    }
                    localReadsOpenedTerm = 0
                    confChangeApplied(cc)
                }
            }
            normal.append(e)
        }
        // The answers go to their connections' loops together (`AnswerBatch`).
        if !normal.isEmpty { AnswerBatch.collect { applier?.apply(normal, term: node.term) } }
    }

    /// `applyStage` applied everything up to `index`: the reads waiting for
    /// it are served, and the status (then the snapshot policy) sees it.
    func stageApplied(upTo index: UInt64) {
        appliedIndex = max(appliedIndex, index)
        publishStatus()  // first: a read served next may look at the published applied index
        answerReads()
        maybeSnapshot()
    }

    func publishStatus() {
        let st = node.status()
        let grant = node.readIndexGrant
        let previousLeader = statusLock.withLock { () -> UInt64 in
            readGrant = grant
            let previous = publishedStatus.leader
            publishedStatus = NodeStatus(memberID: memberID, leader: st.lead, term: st.term,
                                         commitIndex: st.commit, appliedIndex: appliedIndex,
                                         learners: confState.learners,
                                         matchIndex: st.role == .leader ? st.progress.mapValues(\.match) : [:])
            return previous
        }
        // A leader that lost its leadership hears of it at once, even with
        // no successor known yet (its lessor stops expiring leases).
        if st.lead != previousLeader && (st.lead != 0 || previousLeader == memberID) { leaderChanged(st.lead) }
        let gate = LocalReadGate(memberID: memberID, confState: confState, leader: st.lead, term: st.term,
                                 commitIndex: st.commit, commitTerm: node.term(at: st.commit), appliedIndex: appliedIndex,
                                 openedThisTerm: localReadsOpenedTerm == st.term && st.term != 0)
        let open = gate.isOpen
        localReadsOpenedTerm = open ? st.term : 0
        readsLocally.store(open, ordering: .releasing)
    }
}
