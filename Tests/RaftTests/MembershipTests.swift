import Testing
@testable import Raft

/// Paper §6 / thesis §4.1: single-server membership changes.
@Suite struct MembershipTests {
    @Test func addVoterCatchesUpAndVotes() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        try c.add(4)
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addNode, nodeID: 4))
        c.stabilize()
        c.tickAll(2)
        #expect(c.confStates[1]?.voters == [1, 2, 3, 4])
        #expect(c.appliedStrings(4) == ["a"])
        #expect(c.status(4).confState.voters == [1, 2, 3, 4])
        // Quorum is now 3 of 4.
        c.isolate(3); c.isolate(4)
        try c.propose(1, "b")
        #expect(c.appliedStrings(1) == ["a"])
    }

    @Test func removeVoterShrinksQuorum() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .removeNode, nodeID: 3))
        c.stabilize()
        #expect(c.confStates[1]?.voters == [1, 2])
        c.down.insert(3)
        try c.propose(1, "x")
        #expect(c.appliedStrings(2) == ["x"])
    }

    @Test func learnerReceivesLogButNeitherVotesNorCampaigns() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.add(4)
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addLearnerNode, nodeID: 4))
        c.stabilize()
        try c.propose(1, "a")
        c.tickAll(2)
        #expect(c.appliedStrings(4) == ["a"])
        #expect(c.status(1).confState.learners == [4])
        #expect(c.status(1).progress[4]?.isLearner == true)
        // A learner never times out into an election.
        c.isolate(4)
        for _ in 0..<50 { c.tick(4) }
        #expect(c.status(4).role == .follower)
        // Commit needs a voter quorum: learner acks do not count.
        c.heal()
        c.isolate(2); c.isolate(3)
        try c.propose(1, "b")
        #expect(c.appliedStrings(1) == ["a"])
    }

    @Test func promoteLearner() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.add(4)
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addLearnerNode, nodeID: 4))
        c.stabilize()
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addNode, nodeID: 4))
        c.stabilize()
        #expect(c.status(1).confState == ConfState(voters: [1, 2, 3, 4], learners: []))
        #expect(c.status(1).progress[4]?.isLearner == false)
    }

    @Test func oneChangeAtATime() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.add(4); try c.add(5)
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addNode, nodeID: 4))
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addNode, nodeID: 5))
        c.stabilize()
        // The second change became a no-op entry: only node 4 joined.
        #expect(c.status(1).confState.voters == [1, 2, 3, 4])
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .addNode, nodeID: 5))
        c.stabilize()
        #expect(c.status(1).confState.voters == [1, 2, 3, 4, 5])
    }

    @Test func removedLeaderStepsDown() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.nodes[1]!.proposeConfChange(ConfChange(type: .removeNode, nodeID: 1))
        c.stabilize()
        #expect(c.status(1).role == .follower)
        c.down.insert(1)
        c.tickAll(30)
        let l = try #require(c.leader)
        #expect(l != 1)
        try c.propose(l, "after")
        #expect(c.appliedStrings(2) == ["after"])
    }

    @Test func confChangeCodecRoundTrips() throws {
        let cc = ConfChange(type: .addLearnerNode, nodeID: 0xdead_beef_cafe, context: Array("http://x:2380".utf8))
        #expect(try ConfChange(decoding: cc.encoded()) == cc)
        #expect(throws: RaftError.self) { try ConfChange(decoding: [9, 1, 0]) }
        #expect(throws: RaftError.self) { try ConfChange(decoding: cc.encoded() + [0]) }
    }
}
