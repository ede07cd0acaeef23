import Testing
@testable import Raft

/// Paper §5.3 (log replication) and flow control.
@Suite struct ReplicationTests {
    @Test func leaderReplicatesAndCommits() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        try c.propose(1, "b")
        for id: UInt64 in [1, 2, 3] { #expect(c.appliedStrings(id) == ["a", "b"]) }
        #expect(c.status(1).commit == c.status(2).commit)
    }

    @Test func commitNeedsAQuorum() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        let commit = c.status(1).commit
        c.isolate(2); c.isolate(3)
        try c.propose(1, "a")
        #expect(c.status(1).commit == commit)
        #expect(c.appliedStrings(1).isEmpty)
        c.heal()
        c.tickAll(2)
        #expect(c.appliedStrings(1) == ["a"])
    }

    @Test func followerForwardsProposals() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(2, "via-follower")
        #expect(c.appliedStrings(3) == ["via-follower"])
    }

    @Test func proposalWithoutLeaderIsDropped() throws {
        let c = try TestCluster([1, 2, 3])
        #expect(throws: RaftError.proposalDropped) { try c.nodes[2]!.propose([1]) }
    }

    @Test func conflictingFollowerEntriesAreOverwritten() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.isolate(1)
        for i in 0..<5 { try c.nodes[1]!.propose(Array("lost\(i)".utf8)) }
        c.stabilize()
        c.campaign(2)
        try c.propose(2, "kept")
        c.heal()
        c.tickAll(3)
        #expect(c.status(1).role == .follower)
        for id: UInt64 in [1, 2, 3] { #expect(c.appliedStrings(id) == ["kept"]) }
        #expect(c.nodes[1]!.lastIndex == c.nodes[2]!.lastIndex)
    }

    @Test func appendsRespectByteLimitPerMessage() throws {
        let c = try TestCluster([1, 2, 3]) { $0.maxSizePerMsg = 300 }
        c.campaign(1)
        c.isolate(2)
        for _ in 0..<10 { try c.nodes[1]!.propose([UInt8](repeating: 7, count: 100)) }
        c.stabilize()
        c.heal()
        c.delivered.removeAll()
        c.tickAll(3)
        let apps = c.delivered.filter { $0.type == .app && $0.to == 2 && !$0.entries.isEmpty }
        #expect(!apps.isEmpty)
        #expect(apps.allSatisfy { $0.entries.count <= 3 })
        #expect(c.applied[2]!.count == 10)
    }

    @Test func inflightWindowBoundsUnackedAppends() throws {
        let c = try TestCluster([1, 2, 3]) { $0.maxInflightMsgs = 2 }
        c.campaign(1)
        c.queue.removeAll()
        for i in 0..<6 {
            try c.nodes[1]!.propose([UInt8(i)])
            _ = c.handleReady(1)
        }
        let to2 = c.queue.filter { $0.type == .app && $0.to == 2 }
        #expect(to2.count == 2)
        c.stabilize()
        c.tickAll(2)
        #expect(c.applied[2]!.count == 6)
    }

    @Test func fastBackOffSkipsConflictingTermsInFewRoundTrips() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        // Node 1 builds a long uncommitted tail in its term while isolated.
        c.isolate(1)
        for i in 0..<50 { try c.nodes[1]!.propose([UInt8(i)]) }
        c.stabilize()
        c.campaign(2)
        for i in 0..<50 { try c.nodes[2]!.propose([UInt8(i)]) }
        c.stabilize()
        c.heal()
        c.delivered.removeAll()
        c.tickAll(3)
        let rejects = c.delivered.filter { $0.type == .appResp && $0.from == 1 && $0.reject }
        #expect(rejects.count <= 3)
        #expect(c.applied[1]!.count == 50)
    }

    @Test func followerAcksOnlyAfterPersisting() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.nodes[1]!.propose([1])
        _ = c.handleReady(1)
        c.deliverAll()
        // Node 2 has the entry only in memory: its ack is in the Ready, next to the entries.
        let rd = c.nodes[2]!.ready()
        #expect(rd.entries.count == 1)
        #expect(rd.messages.contains { $0.type == .appResp && !$0.reject })
        #expect(rd.mustSync)
    }

    @Test func committedEntriesAreDurableBeforeTheyAreHandedOut() throws {
        let c = try TestCluster([1])
        try c.nodes[1]!.propose([9])
        let rd = c.nodes[1]!.ready()
        #expect(rd.entries.count == 1)
        #expect(rd.committedEntries.isEmpty)
        try c.storages[1]!.append(rd.entries)
        c.nodes[1]!.advance(rd)
        let rd2 = c.nodes[1]!.ready()
        #expect(rd2.committedEntries.map(\.data) == [[9]])
        #expect(rd2.hardState?.commit == rd2.committedEntries.last?.index)
    }

    /// A follower whose disk lost entries it had acknowledged (its log, after
    /// a restart, ends before its leader's match for it) rejects every
    /// append. The leader took those rejections for stale answers and the
    /// follower stayed behind until the next leader; it is sent the lost
    /// entries again, and the leader says so in its log.
    @Test func followerThatLostAcknowledgedEntriesIsSentThemAgain() throws {
        let c = try TestCluster([1, 2, 3]) { $0.recordEvents = true }
        c.campaign(1)
        for s in ["a", "b", "c", "d", "e"] { try c.propose(1, s) }
        let acknowledged = c.nodes[3]!.lastIndex
        #expect(c.status(1).progress[3]?.match == acknowledged)

        // Node 3 restarts on a log that lost its last three entries.
        let old = c.storages[3]!
        let kept = acknowledged - 3
        let lossy = MemoryStorage()
        try lossy.append(try old.entries(from: 1, to: kept + 1, maxSizeBytes: .max))
        var hs = old.hardState
        hs.commit = min(hs.commit, kept)
        lossy.setHardState(hs)
        c.storages[3] = lossy
        try c.restart(3)
        #expect(c.nodes[3]!.lastIndex == kept)
        _ = c.nodes[1]!.takeEvents()

        try c.propose(1, "f")
        c.tickAll(3)
        #expect(c.nodes[3]!.lastIndex == c.nodes[1]!.lastIndex)
        #expect(c.status(3).commit == c.status(1).commit)
        #expect(c.appliedStrings(3) == ["a", "b", "c", "d", "e", "f"])
        #expect(c.status(1).progress[3]?.match == c.nodes[1]!.lastIndex)
        #expect(c.nodes[1]!.takeEvents().contains(.followerLostAcknowledged(peer: 3, match: acknowledged, lastIndex: kept)))
    }

    /// A rejection that answers an older append (its hint is not below the
    /// match since acknowledged) changes nothing.
    @Test func staleRejectionLeavesTheProgressAlone() {
        let pr = Progress(next: 1, maxInflight: 4, isLearner: false)
        pr.becomeReplicate()
        pr.maybeUpdate(10)
        pr.optimisticUpdate(12)
        #expect(pr.maybeDecrTo(rejected: 8, matchHint: 10) == false)
        #expect(pr.match == 10 && pr.next == 13 && pr.state == .replicate)
        #expect(pr.maybeDecrTo(rejected: 10, matchHint: 7) == true)
        #expect(pr.match == 7 && pr.next == 8)
    }
}
