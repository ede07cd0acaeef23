import Testing
@testable import Raft

/// Replication while a `Ready` is being persisted (Raft thesis 10.2.1): the
/// application steps proposals and acknowledgements between `ready()` and
/// `advance(_:)` and sends `takeEarlyMessages()` at once. The leader's own
/// copy counts towards a quorum only after `advance`, so with one follower's
/// acknowledgement nothing commits, with two it does, and either way the
/// leader applies an entry only once it is durable on its own disk.
@Suite struct PersistOverlapTests {
    /// Leader 1 of 3 proposes `data`; returns its Ready, not yet persisted,
    /// after its appends reached `ackers`, which persisted them and answered.
    private func pendingLeaderReady(_ c: TestCluster, data: String, ackers: Set<UInt64>) throws -> Ready {
        try c.nodes[1]!.propose(Array(data.utf8))
        let rd = c.nodes[1]!.ready()
        #expect(rd.entries.map { String(decoding: $0.data, as: UTF8.self) } == [data])
        c.queue.append(contentsOf: rd.messages)
        c.deliverAll { ackers.contains($0.to) }
        for id in ackers { c.handleReady(id) }
        c.deliverAll { $0.to == 1 }  // the acknowledgements, stepped while 1 persists
        return rd
    }

    private func finish(_ c: TestCluster, _ rd: Ready) throws {
        try c.storages[1]!.persist(rd)
        c.nodes[1]!.advance(rd)
    }

    @Test func oneFollowerAckDoesNotCommitBeforeTheLeaderPersisted() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        let commit = c.status(1).commit
        let rd = try pendingLeaderReady(c, data: "x", ackers: [2])
        #expect(c.status(1).commit == commit, "committed with one follower and an unsynced leader")
        try finish(c, rd)
        #expect(c.status(1).commit == rd.entries.last!.index)
        #expect(c.nodes[1]!.ready().committedEntries.map(\.index) == [rd.entries.last!.index])
    }

    @Test func twoFollowerAcksCommitWhileTheLeaderPersistsButItAppliesOnlyAfter() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        let rd = try pendingLeaderReady(c, data: "x", ackers: [2, 3])
        let index = rd.entries.last!.index
        #expect(c.status(1).commit == index)
        // The new commit index goes to the followers at once …
        let early = c.nodes[1]!.takeEarlyMessages()
        #expect(Set(early.filter { $0.type == .app && $0.commit == index }.map(\.to)) == [2, 3])
        // … but the leader hands the entry out only once its own copy is durable.
        #expect(c.raft(1).log.nextEntries().isEmpty)
        try finish(c, rd)
        #expect(c.nodes[1]!.ready().committedEntries.map(\.index) == [index])
    }

    @Test func proposalsSteppedWhilePersistingReplicateAtOnceAndPersistNext() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        let rd = try pendingLeaderReady(c, data: "x", ackers: [])
        try c.nodes[1]!.propose(Array("y".utf8))
        let early = c.nodes[1]!.takeEarlyMessages()
        let sent = early.filter { $0.type == .app }.flatMap(\.entries).map { String(decoding: $0.data, as: UTF8.self) }
        #expect(sent.contains("y"))
        try finish(c, rd)
        // "y" was not part of the persisted Ready: it is still to be persisted.
        let next = c.nodes[1]!.ready()
        #expect(next.entries.map { String(decoding: $0.data, as: UTF8.self) } == ["y"])
        #expect(next.mustSync)
    }

    @Test func aFollowerHoldsItsAcksButForwardsProposals() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.nodes[1]!.propose(Array("x".utf8))
        c.handleReady(1)
        c.deliverAll { $0.to == 2 }
        let rd = c.nodes[2]!.ready()  // holds the entry and its acknowledgement
        try c.nodes[2]!.propose(Array("via-2".utf8))
        #expect(c.nodes[2]!.takeEarlyMessages().map(\.type) == [.prop])
        #expect(rd.messages.map(\.type) == [.appResp])
        #expect(c.nodes[2]!.takeEarlyMessages().isEmpty)
    }
}
