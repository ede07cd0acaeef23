import Raft
import Testing
@testable import Server

@Suite struct LocalReadGateTests {
    /// A sole member, leader in term 3, everything committed applied.
    let open = LocalReadGate(memberID: 7, confState: ConfState(voters: [7]), leader: 7, term: 3,
                             commitIndex: 10, commitTerm: 3, appliedIndex: 10)

    @Test func soleLeaderWithEverythingAppliedReadsLocally() {
        #expect(open.isOpen)
    }

    @Test func anyOtherMemberClosesIt() {
        var g = open
        g.confState = ConfState(voters: [7, 8])
        #expect(!g.isOpen)
        g = open
        g.confState = ConfState(voters: [7], learners: [9])  // a learner acknowledges its own writes
        #expect(!g.isOpen)
        g = open
        g.confState = ConfState(voters: [8])
        #expect(!g.isOpen)
    }

    @Test func notLeaderOrNoEntryOfItsTermCommittedClosesIt() {
        var g = open
        g.leader = 0
        #expect(!g.isOpen)
        g = open
        g.commitTerm = 2  // restarted: the new term's first entry is not committed yet
        #expect(!g.isOpen)
        g = open
        g.commitTerm = nil
        #expect(!g.isOpen)
        g = open
        g.memberID = 0
        g.confState = ConfState(voters: [0])
        g.leader = 0
        #expect(!g.isOpen)
    }

    @Test func committedButUnappliedEntriesCloseIt() {
        var g = open
        g.appliedIndex = 9
        #expect(!g.isOpen)
        g.appliedIndex = 11  // applied ahead of a stale commit index: fine
        #expect(g.isOpen)
    }

    /// Open once in this term, it stays open while the next batch is
    /// committed but not applied (unacknowledged writes), and only then.
    @Test func openedThisTermStaysOpenOverUnappliedEntriesOnly() {
        var g = open
        g.appliedIndex = 9
        g.openedThisTerm = true
        #expect(g.isOpen)
        g.leader = 0
        #expect(!g.isOpen)
        g = open
        g.openedThisTerm = true
        g.appliedIndex = 9
        g.confState = ConfState(voters: [7, 8])
        #expect(!g.isOpen)
        g.confState = ConfState(voters: [7], learners: [9])
        #expect(!g.isOpen)
    }
}
