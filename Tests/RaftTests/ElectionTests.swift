import Testing
@testable import Raft

/// Paper §5.2 (leader election), thesis §9.6 (PreVote) and §6.2 (CheckQuorum).
@Suite struct ElectionTests {
    @Test func followerStartsElectionAfterTimeout() throws {
        let c = try TestCluster([1, 2, 3])
        c.isolate(1)
        c.tick(1, 20)
        let s = c.status(1)
        #expect(s.role == .candidate)
        #expect(s.term == 2)
        #expect(s.vote == 1)
        let rd = c.nodes[1]!.ready()
        #expect(Set(rd.messages.filter { $0.type == .vote }.map(\.to)) == [2, 3])
    }

    @Test func randomizedElectionTimeoutStaysInRange() throws {
        let c = try TestCluster([1, 2, 3])
        let r = c.raft(1)
        var seen = Set<Int>()
        for _ in 0..<200 {
            r.reset(term: r.term)
            #expect(r.randomizedElectionTimeoutTicks >= 10 && r.randomizedElectionTimeoutTicks < 20)
            seen.insert(r.randomizedElectionTimeoutTicks)
        }
        #expect(seen.count > 5)
    }

    @Test func candidateWithMajorityBecomesLeader() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        #expect(c.status(1).role == .leader)
        #expect(c.status(2).lead == 1)
        #expect(c.status(3).lead == 1)
        #expect(c.status(2).term == c.status(1).term)
    }

    @Test func candidateWithoutMajorityStaysCandidate() throws {
        let c = try TestCluster([1, 2, 3, 4, 5])
        c.isolate(3); c.isolate(4); c.isolate(5)
        c.campaign(1)
        #expect(c.status(1).role == .candidate)
        c.heal()
        c.tickAll(30)
        #expect(c.leader != nil)
    }

    @Test func nodeVotesAtMostOncePerTerm() throws {
        let c = try TestCluster([1, 2, 3])
        let n = c.nodes[3]!
        var node = n
        try node.step(Message(type: .vote, to: 3, from: 1, term: 5, logTerm: 1, index: 3))
        try node.step(Message(type: .vote, to: 3, from: 2, term: 5, logTerm: 1, index: 3))
        let votes = node.ready().messages.filter { $0.type == .voteResp }
        #expect(votes.map(\.reject) == [false, true])
        #expect(node.status().vote == 1)
    }

    @Test func candidateStepsDownOnAppendFromLeaderOfSameTerm() throws {
        let c = try TestCluster([1, 2, 3])
        c.isolate(2)
        c.campaign(2)
        #expect(c.status(2).role == .candidate)
        let term = c.status(2).term
        try c.nodes[2]!.step(Message(type: .app, to: 2, from: 1, term: term, logTerm: 1, index: 3, commit: 3))
        #expect(c.status(2).role == .follower)
        #expect(c.status(2).lead == 1)
    }

    @Test func voteRejectedForLessUpToDateLog() throws {
        // §5.4.1: node 3 misses entries, cannot win against 1 and 2.
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.isolate(3)
        try c.propose(1, "a")
        c.heal()
        c.isolate(1)
        c.campaign(3)
        #expect(c.status(3).role != .leader)
        c.campaign(2)
        #expect(c.status(2).role == .leader)
    }

    @Test func singleNodeElectsItselfAtOnceAndCommits() throws {
        let c = try TestCluster([1])
        #expect(c.status(1).role == .leader)
        try c.propose(1, "x")
        #expect(c.appliedStrings(1) == ["x"])
    }

    @Test func preVoteKeepsPartitionedNodeFromRaisingItsTerm() throws {
        let c = try TestCluster([1, 2, 3]) { $0.preVote = true }
        c.campaign(1)
        let term = c.status(1).term
        c.isolate(3)
        for _ in 0..<50 { c.tick(3); c.stabilize() }
        #expect(c.status(3).term == term)
        #expect(c.status(3).role == .preCandidate)
        c.heal()
        c.tickAll(3)
        #expect(c.status(1).role == .leader)
        #expect(c.status(1).term == term)
    }

    @Test func withoutPreVoteRejoiningNodeDisruptsLeader() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        let term = c.status(1).term
        c.isolate(3)
        for _ in 0..<50 { c.tick(3); c.stabilize() }
        #expect(c.status(3).term > term)
        c.heal()
        c.tickAll(30)
        #expect(c.status(1).term > term)
    }

    @Test func checkQuorumLeaderStepsDownWhenIsolated() throws {
        let c = try TestCluster([1, 2, 3]) { $0.checkQuorum = true }
        c.campaign(1)
        c.isolate(1)
        for _ in 0..<25 { c.tick(1); c.stabilize() }
        #expect(c.status(1).role == .follower)
    }

    @Test func checkQuorumIgnoresDisruptiveVoteInLease() throws {
        let c = try TestCluster([1, 2, 3]) { $0.checkQuorum = true }
        c.campaign(1)
        let term = c.status(1).term
        try c.nodes[2]!.step(Message(type: .vote, to: 2, from: 3, term: term + 1, logTerm: 9, index: 99))
        #expect(c.status(2).term == term)
        #expect(c.nodes[2]!.ready().messages.isEmpty)
    }
}

@Suite struct SingleNodeTests {
    @Test func restartedSingleNodeLeadsAgainWithoutTimeout() throws {
        let c = try TestCluster([1])
        try c.propose(1, "a")
        let term = c.status(1).term
        try c.restart(1)
        c.stabilize()
        #expect(c.status(1).role == .leader)
        #expect(c.status(1).term > term)
        #expect(c.appliedStrings(1) == ["a"]) // re-applied from the log after the restart
        try c.propose(1, "b")
        #expect(c.appliedStrings(1) == ["a", "b"])
    }
}
