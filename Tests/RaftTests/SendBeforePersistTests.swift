import Testing
@testable import Raft

/// Which messages of a `Ready` may leave before its entries and hard state
/// are durable (`MessageType.sendsBeforePersisting`): the loop sends those
/// first on a follower, so none of them may promise anything about its disk.
@Suite struct SendBeforePersistTests {
    @Test func onlyForwardedRequestsAndHeartbeatAcksMayLeaveEarly() {
        let early = MessageType.allCases.filter(\.sendsBeforePersisting)
        #expect(Set(early) == [.prop, .readIndex, .heartbeatResp])
    }

    @Test func followerForwardsItsProposalBeforeAckingTheEntriesItPersists() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.nodes[1]!.propose(Array("from-leader".utf8))
        c.handleReady(1)
        c.deliverAll { $0.to == 2 }  // node 2 now holds an unpersisted entry
        try c.nodes[2]!.propose(Array("from-follower".utf8))
        let rd = c.nodes[2]!.ready()
        #expect(rd.mustSync)
        #expect(rd.messages.filter(\.type.sendsBeforePersisting).map(\.type) == [.prop])
        // The append acknowledgement promises the entries: it waits for the fsync.
        #expect(rd.messages.filter { !$0.type.sendsBeforePersisting }.map(\.type) == [.appResp])
    }

    @Test func votesAndCampaignsWaitForTheirHardState() throws {
        let c = try TestCluster([1, 2, 3]) { $0.preVote = false }
        try c.nodes[1]!.campaign()
        let candidate = c.nodes[1]!.ready()
        #expect(candidate.mustSync)
        #expect(!candidate.messages.isEmpty)
        #expect(candidate.messages.allSatisfy { !$0.type.sendsBeforePersisting })
        let s = c.storages[1]!
        try s.persist(candidate)
        for m in candidate.messages where m.to == 2 { try c.nodes[2]!.step(m) }
        let voter = c.nodes[2]!.ready()
        #expect(voter.mustSync)
        #expect(voter.messages.map(\.type) == [.voteResp])
        #expect(voter.messages.allSatisfy { !$0.type.sendsBeforePersisting })
    }
}
