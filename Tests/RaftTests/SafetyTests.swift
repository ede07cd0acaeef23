import Testing
@testable import Raft

/// Paper §5.4 (safety): election restriction and the commit rule.
@Suite struct SafetyTests {
    /// Node 1 led term 2 and appended an entry only it has (index 4); it is
    /// now leader of a later term with its empty entry at index 5, and node 2
    /// holds the old entry.
    func leaderWithUnreplicatedOldEntry(plantBug: Bool) throws -> RaftCore {
        let c = try TestCluster([1, 2, 3]) { $0.testingFaults.commitPreviousTermByCounting = plantBug }
        c.campaign(1)
        c.isolate(1)
        try c.nodes[1]!.propose([1])
        c.stabilize()
        c.heal()
        let r = c.raft(1)
        r.becomeFollower(term: r.term + 1, lead: 0)
        r.becomeCandidate()
        r.becomeLeader()
        r.prs.progress[1]!.match = r.log.lastIndex
        r.prs.progress[2]!.match = r.log.lastIndex - 1
        return r
    }

    /// §5.4.2 / Figure 8: entries of a previous term are not committed by
    /// counting replicas, only together with an entry of the current term.
    @Test func leaderDoesNotCommitPreviousTermEntriesByCounting() throws {
        let r = try leaderWithUnreplicatedOldEntry(plantBug: false)
        #expect(r.maybeCommit() == false)
        #expect(r.log.committed < r.log.lastIndex - 1)
        r.prs.progress[2]!.match = r.log.lastIndex
        #expect(r.maybeCommit() == true)
        #expect(r.log.committed == r.log.lastIndex)
    }

    @Test func plantedBugCommitsPreviousTermByCounting() throws {
        let r = try leaderWithUnreplicatedOldEntry(plantBug: true)
        #expect(r.maybeCommit() == true)
        #expect(r.log.committed == r.log.lastIndex - 1)
    }

    @Test func isUpToDateComparesLastTermThenLength() throws {
        let s = MemoryStorage()
        try s.append([Entry(term: 1, index: 1), Entry(term: 2, index: 2)])
        let log = RaftLog(storage: s, maxNextEntsSizeBytes: 1 << 20)
        #expect(log.isUpToDate(lastIndex: 1, term: 3))
        #expect(log.isUpToDate(lastIndex: 2, term: 2))
        #expect(!log.isUpToDate(lastIndex: 1, term: 2))
        #expect(!log.isUpToDate(lastIndex: 5, term: 1))
    }

    @Test func committedEntriesSurviveLeaderCrash() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "durable")
        c.down.insert(1)
        c.campaign(2)
        #expect(c.status(2).role == .leader)
        try c.propose(2, "next")
        try c.restart(1)
        c.tickAll(3)
        #expect(c.appliedStrings(1) == ["durable", "next"])
    }

    @Test func restartRecoversHardStateAndLog() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        let before = c.status(2)
        try c.restart(2)
        let after = c.status(2)
        #expect(after.term == before.term)
        #expect(after.commit == before.commit)
        #expect(c.nodes[2]!.lastIndex == c.nodes[1]!.lastIndex)
    }

    @Test func invalidConfigIsRejected() {
        #expect(throws: RaftError.self) { try RawNode(config: RaftConfig(id: 0), storage: MemoryStorage()) }
        #expect(throws: RaftError.self) {
            try RawNode(config: RaftConfig(id: 1, electionTicks: 1, heartbeatTicks: 1), storage: MemoryStorage())
        }
    }
}
