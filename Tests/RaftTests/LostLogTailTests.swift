import Testing
@testable import Raft

/// A follower restarted with a log that lost entries it had acknowledged
/// (its WAL's tail cut or torn off after the store applied them). Found by
/// the peer fuzzer: the heartbeat's commit was capped at the log's end, and
/// the leader, which ignores rejections below a follower's match, never sent
/// the entries again, so the member never caught up, yet it voted. etcd
/// 3.5.1's raft panics at the first heartbeat: "tocommit(1707) is out of
/// range [lastIndex(1026)]. Was the raft log corrupted, truncated, or lost?".
@Suite struct LostLogTailTests {
    @Test func leadersHeartbeatPastTheLogReportsLogLost() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        for s in ["a", "b", "c"] { try c.propose(1, s) }
        let last = c.nodes[1]!.lastIndex
        #expect(c.status(1).progress[3]?.match == last)

        // Node 3 restarts with the last two entries gone from its log.
        let full = c.storages[3]!
        let keep = last - 2
        let cut = MemoryStorage()
        try cut.append(try full.entries(from: 1, to: keep + 1, maxSizeBytes: .max))
        var hardState = try full.initialState().0
        hardState.commit = keep
        cut.setHardState(hardState)
        c.storages[3] = cut
        try c.restart(3)

        c.tick(1)
        c.handleReady(1)
        let heartbeat = try #require(c.queue.first { $0.type == .heartbeat && $0.to == 3 })
        #expect(heartbeat.commit == last)
        #expect(throws: RaftError.logLost(commit: last, lastIndex: keep)) { try c.nodes[3]!.step(heartbeat) }
        #expect(c.status(3).commit == keep)
    }

    /// The follower that holds what it acknowledged commits as before.
    @Test func heartbeatWithinTheLogCommits() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        c.tick(1)
        c.handleReady(1)
        let heartbeat = try #require(c.queue.first { $0.type == .heartbeat && $0.to == 3 })
        try c.nodes[3]!.step(heartbeat)
        #expect(c.status(3).commit == c.nodes[3]!.lastIndex)
    }
}
