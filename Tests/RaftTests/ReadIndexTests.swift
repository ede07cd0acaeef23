import Testing
@testable import Raft

/// Thesis §6.4: linearizable reads with ReadIndex.
@Suite struct ReadIndexTests {
    @Test func leaderAnswersAfterHeartbeatQuorum() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        c.nodes[1]!.readIndex(context: [1])
        _ = c.handleReady(1)
        #expect(c.readStates[1, default: []].isEmpty)
        c.stabilize()
        #expect(c.readStates[1] == [ReadState(index: c.status(1).commit, context: [1])])
    }

    /// The leader's own read and a follower's forwarded one, queued before
    /// its next Ready, go out as one heartbeat round per follower carrying
    /// the newest context; its quorum answers both. (Five voters: with
    /// three, the follower's request needs no round.)
    @Test func readsQueuedTogetherShareOneHeartbeatRound() throws {
        let (c, commit) = try Self.followerAsked(voters: [1, 2, 3, 4, 5])
        c.nodes[1]!.readIndex(context: [1])
        c.deliverAll()  // node 3's MsgReadIndex reaches the leader
        _ = c.handleReady(1)
        #expect(!c.queue.contains { $0.type == .readIndexResp })
        let heartbeats = c.queue.filter { $0.type == .heartbeat }
        #expect(heartbeats.map(\.to).sorted() == [2, 3, 4, 5])
        #expect(heartbeats.allSatisfy { $0.context == [3] })
        c.stabilize()
        #expect(c.readStates[1] == [ReadState(index: commit, context: [1])])
        #expect(c.readStates[3] == [ReadState(index: commit, context: [3])])
    }

    /// A read queued after a heartbeat round went out is not answered by
    /// that round's acknowledgements: it waits for a round sent after it.
    @Test func readAfterARoundWaitsForTheNextRound() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        c.stabilize()
        c.nodes[1]!.readIndex(context: [1])
        _ = c.handleReady(1)  // round for [1] queued
        c.nodes[1]!.readIndex(context: [2])
        c.deliverAll()  // followers get the round for [1]
        _ = c.handleReady(2)
        _ = c.handleReady(3)
        c.deliverAll(filter: { $0.to == 1 })  // their acks for [1] reach the leader
        _ = c.handleReady(1)
        #expect(c.readStates[1]?.map(\.context) == [[1]])
        c.stabilize()
        #expect(c.readStates[1]?.map(\.context) == [[1], [2]])
    }

    @Test func isolatedLeaderCannotAnswer() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.isolate(1)
        c.nodes[1]!.readIndex(context: [1])
        c.stabilize()
        #expect(c.readStates[1, default: []].isEmpty)
    }

    @Test func followerForwardsToLeader() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        c.nodes[3]!.readIndex(context: [7, 7])
        c.stabilize()
        #expect(c.readStates[3] == [ReadState(index: c.status(1).commit, context: [7, 7])])
    }

    /// Node 1 leads `voters` with an entry committed in its term; node 3
    /// asked for a read (context [3]), its request not delivered yet.
    static func followerAsked(voters: [UInt64]) throws -> (TestCluster, commit: UInt64) {
        let c = try TestCluster(voters)
        c.campaign(1)
        try c.propose(1, "a")
        c.stabilize()
        c.nodes[3]!.readIndex(context: [3])
        _ = c.handleReady(3)
        return (c, c.status(1).commit)
    }

    /// Three voters: a follower's request, asked in the leader's term,
    /// and the leader make a quorum, so the leader answers it at once,
    /// without a heartbeat round.
    @Test func followerRequestCompletesQuorumOfThree() throws {
        let (c, commit) = try Self.followerAsked(voters: [1, 2, 3])
        let request = c.queue.first { $0.type == .readIndex }
        #expect(request?.logTerm == c.status(3).term)
        c.deliverAll()
        _ = c.handleReady(1)
        #expect(!c.queue.contains { $0.type == .heartbeat })
        #expect(c.queue.filter { $0.type == .readIndexResp }.map(\.to) == [3])
        c.stabilize()
        #expect(c.readStates[3] == [ReadState(index: commit, context: [3])])
    }

    /// The leader's `ReadIndexGrant` answers the follower's request off the
    /// node exactly as the node would (same message), and nothing else.
    @Test func grantAnswersAsTheLeaderWould() throws {
        let (c, commit) = try Self.followerAsked(voters: [1, 2, 3])
        let grant = try #require(c.nodes[1]!.readIndexGrant)
        let request = try #require(c.queue.first { $0.type == .readIndex })
        let answer = try #require(grant.answer(request))
        c.deliverAll()
        _ = c.handleReady(1)
        #expect(c.queue.filter { $0.type == .readIndexResp } == [answer])
        #expect(answer.index == commit && answer.term == c.status(1).term && answer.from == 1)
        for (from, logTerm) in [(UInt64(3), UInt64(1)), (3, 0), (3, 9), (9, 2), (0, 2), (1, 2)] {
            #expect(grant.answer(Message(type: .readIndex, to: 1, from: from, logTerm: logTerm)) == nil)
        }
        #expect(grant.answer(Message(type: .heartbeatResp, to: 1, from: 3, logTerm: 2)) == nil)
        #expect(grant.answer(Message(type: .readIndex, to: 2, from: 3, logTerm: 2)) == nil)
    }

    /// No grant from a follower, from five voters (requester and leader are
    /// no quorum), from a leader with nothing of its term committed, or
    /// once the leader stepped down.
    @Test func grantOnlyWhileTheLeaderMayAnswerAtOnce() throws {
        let (three, _) = try Self.followerAsked(voters: [1, 2, 3])
        #expect(three.nodes[2]!.readIndexGrant == nil)
        let (five, _) = try Self.followerAsked(voters: [1, 2, 3, 4, 5])
        #expect(five.nodes[1]!.readIndexGrant == nil)
        three.isolate(1)
        let r = three.raft(1)
        r.becomeFollower(term: r.term + 1, lead: 0)
        #expect(three.nodes[1]!.readIndexGrant == nil)
        r.becomeCandidate()
        r.becomeLeader()
        #expect(three.nodes[1]!.readIndexGrant == nil)  // its empty entry is not committed yet
    }

    /// A request that does not show its sender as a voter of the leader's
    /// term (an older term, none, an unknown member) waits for a heartbeat
    /// round, as do the leader's own reads.
    @Test func requestOfAnotherTermOrNonVoterWaitsForARound() throws {
        for (from, logTerm) in [(UInt64(3), UInt64(1)), (3, 0), (3, 9), (9, 2)] {
            let c = try TestCluster([1, 2, 3])
            c.campaign(1)
            try c.propose(1, "a")
            c.stabilize()
            #expect(c.status(1).term == 2)
            try c.nodes[1]!.step(Message(type: .readIndex, to: 1, from: from, logTerm: logTerm, context: [UInt8(from)]))
            _ = c.handleReady(1)
            #expect(!c.queue.contains { $0.type == .readIndexResp })
            #expect(c.queue.filter { $0.type == .heartbeat }.count == 2)
        }
    }

    @Test func newLeaderHoldsReadsUntilItCommitsInItsTerm() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        // A new leader whose empty entry has not committed yet.
        c.isolate(1)
        let r = c.raft(1)
        r.becomeFollower(term: r.term + 1, lead: 0)
        r.becomeCandidate()
        r.becomeLeader()
        #expect(!r.hasCommittedEntryInCurrentTerm)
        c.nodes[1]!.readIndex(context: [5])
        _ = c.handleReady(1)
        #expect(c.readStates[1, default: []].isEmpty)
        #expect(r.pendingReadIndexMessages.count == 1)
        c.heal()
        c.tickAll(2)
        #expect(c.readStates[1]?.map(\.context) == [[5]])
        #expect(c.readStates[1]!.first!.index >= r.log.committed - 1)
    }

    @Test func singleNodeAnswersAtOnce() throws {
        let c = try TestCluster([1])
        try c.propose(1, "a")
        c.nodes[1]!.readIndex(context: [3])
        c.stabilize()
        #expect(c.readStates[1] == [ReadState(index: c.status(1).commit, context: [3])])
    }

    @Test func leaseBasedReadNeedsNoHeartbeatRound() throws {
        let c = try TestCluster([1, 2, 3]) {
            $0.checkQuorum = true
            $0.readOnlyLeaseBased = true
        }
        c.campaign(1)
        c.nodes[1]!.readIndex(context: [4])
        _ = c.handleReady(1)
        #expect(c.readStates[1] == [ReadState(index: c.status(1).commit, context: [4])])
        #expect(!c.queue.contains { $0.type == .heartbeat })
        #expect(throws: RaftError.self) {
            try RawNode(config: RaftConfig(id: 1, checkQuorum: false, readOnlyLeaseBased: true), storage: MemoryStorage())
        }
    }

    @Test func readWithoutLeaderIsDropped() throws {
        let c = try TestCluster([1, 2, 3])
        c.nodes[2]!.readIndex(context: [1])
        c.stabilize()
        #expect(c.readStates[2, default: []].isEmpty)
    }
}

/// Thesis §3.10: leadership transfer.
@Suite struct TransferTests {
    @Test func transferToUpToDateFollower() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.nodes[1]!.transferLeader(to: 2)
        c.stabilize()
        #expect(c.status(2).role == .leader)
        #expect(c.status(1).role == .follower)
        #expect(c.status(1).lead == 2)
    }

    @Test func transferWaitsForTransfereeToCatchUp() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.isolate(3)
        for i in 0..<3 { try c.propose(1, "e\(i)") }
        c.nodes[1]!.transferLeader(to: 3)
        c.stabilize()
        #expect(c.status(1).leadTransferee == 3)
        #expect(throws: RaftError.proposalDropped) { try c.nodes[1]!.propose([1]) }
        c.heal()
        c.tickAll(2)
        #expect(c.status(3).role == .leader)
        #expect(c.appliedStrings(3) == ["e0", "e1", "e2"])
    }

    @Test func transferAbortsAfterElectionTimeout() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.isolate(3)
        c.nodes[1]!.transferLeader(to: 3)
        c.stabilize()
        #expect(c.status(1).leadTransferee == 3)
        for _ in 0..<10 { c.tick(1); c.stabilize() }
        #expect(c.status(1).leadTransferee == 0)
        #expect(c.status(1).role == .leader)
    }
}
