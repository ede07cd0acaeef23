import Atomics
import Foundation
import GRPCWire
import Raft

/// Applying committed entries (conf changes here, the rest by `applier`)
/// and publishing what other threads read: `status`, the read grant and the
/// local read gate. Loop thread only.
extension RaftLoop {
    func apply(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        var normal: [Entry] = []
        normal.reserveCapacity(entries.count)
        for e in entries where e.index > appliedIndex {
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
        appliedIndex = max(appliedIndex, entries.last!.index)
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
        if st.lead != 0 && st.lead != previousLeader { leaderChanged(st.lead) }
        let gate = LocalReadGate(memberID: memberID, confState: confState, leader: st.lead, term: st.term,
                                 commitIndex: st.commit, commitTerm: node.term(at: st.commit), appliedIndex: appliedIndex,
                                 openedThisTerm: localReadsOpenedTerm == st.term && st.term != 0)
        let open = gate.isOpen
        localReadsOpenedTerm = open ? st.term : 0
        readsLocally.store(open, ordering: .releasing)
    }
}
