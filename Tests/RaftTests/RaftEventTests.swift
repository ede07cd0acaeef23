import Testing
@testable import Raft

/// The core records its decisions as `RaftEvent`s (when asked) and words
/// them as etcd's raft logger does, so the server's log reads like etcd's.
@Suite struct RaftEventTests {
    private func texts(_ c: TestCluster, _ id: UInt64) -> [String] {
        var node = c.nodes[id]!
        return node.takeEvents().map { $0.text(localID: id) }
    }

    @Test func electionWithPreVoteIsLoggedAsEtcdWordsIt() throws {
        let c = try TestCluster([1, 2, 3]) { $0.recordEvents = true; $0.preVote = true }
        for id: UInt64 in [1, 2, 3] { _ = texts(c, id) }
        c.campaign(1)
        let leader = texts(c, 1)
        #expect(leader.contains("1 is starting a new election at term 1"))
        #expect(leader.contains("1 became pre-candidate at term 1"))
        #expect(leader.contains("1 [logterm: 1, index: 3] sent MsgPreVote request to 2 at term 2"))
        #expect(leader.contains("1 received MsgPreVoteResp from 2 at term 1"))
        #expect(leader.contains("1 has received 2 MsgPreVoteResp votes and 0 vote rejections"))
        #expect(leader.contains("1 became candidate at term 2"))
        #expect(leader.contains("1 became leader at term 2"))
        #expect(leader.contains("raft.node: 1 elected leader 1 at term 2"))
        let follower = texts(c, 2)
        #expect(follower.contains("2 [logterm: 1, index: 3, vote: 0] cast MsgPreVote for 1 [logterm: 1, index: 3] at term 1"))
        #expect(follower.contains("2 [term: 1] received a MsgVote message with higher term from 1 [term: 2]"))
        #expect(follower.contains("raft.node: 2 elected leader 1 at term 2"))
    }

    @Test func withoutPreVoteThereIsNoPreCandidate() throws {
        let c = try TestCluster([1, 2, 3]) { $0.recordEvents = true; $0.preVote = false }
        _ = texts(c, 1)
        c.campaign(1)
        let leader = texts(c, 1)
        #expect(!leader.contains { $0.contains("pre-candidate") })
        #expect(leader.contains("1 became candidate at term 2"))
        #expect(leader.contains("1 became leader at term 2"))
    }

    @Test func lostLeaderTransferAndConfigurationChanges() throws {
        let c = try TestCluster([1, 2, 3]) { $0.recordEvents = true }
        c.campaign(1)
        c.stabilize()
        for id: UInt64 in [1, 2, 3] { _ = texts(c, id) }
        var leader = c.nodes[1]!
        leader.transferLeader(to: 2)
        c.stabilize()
        let old = texts(c, 1)
        #expect(old.contains { $0.hasPrefix("1 [term 2] starts to transfer leadership to 2") })
        #expect(old.contains("raft.node: 1 lost leader 1 at term 3"))
        #expect(old.contains("raft.node: 1 elected leader 2 at term 3"))
        let new = texts(c, 2)
        #expect(new.contains("2 [term 2] received MsgTimeoutNow from 1 and starts an election to get leadership."))
        #expect(new.contains("2 became leader at term 3"))

        var node = c.nodes[3]!
        _ = node.applyConfChange(ConfChange(type: .addLearnerNode, nodeID: 4))
        #expect(texts(c, 3).contains("3 switched to configuration voters=(1 2 3) learners=(4)"))
    }

    @Test func leaderLossIsLogged() throws {
        let c = try TestCluster([1, 2, 3]) { $0.recordEvents = true }
        c.campaign(1)
        c.stabilize()
        _ = texts(c, 2)
        c.isolate(1)
        c.tick(2, 40)
        c.stabilize()
        #expect(texts(c, 2).contains { $0.hasPrefix("raft.node: 2 lost leader 1 at term") })
    }

    /// A follower behind the leader's compacted log gets a snapshot: the
    /// leader logs sending it and the transport's failure report, the
    /// follower logs restoring the one resent, as etcd's raft logger words them.
    @Test func snapshotSentAndRestoredAreLogged() throws {
        let c = try TestCluster([1, 2, 3]) { $0.recordEvents = true }
        c.campaign(1)
        c.down.insert(3)
        for i in 0..<10 { try c.propose(1, "e\(i)") }
        let applied = c.status(1).applied
        let term = c.status(1).term
        try c.storages[1]!.createSnapshot(index: applied, confState: c.status(1).confState, data: [1])
        try c.storages[1]!.compact(upTo: applied)
        try c.restart(3)
        _ = texts(c, 1)
        // The transport loses the first snapshot and says so; the next one arrives.
        for _ in 0..<10 where c.status(1).progress[3]?.state != .snapshot {
            c.tick(1)
            for id: UInt64 in [1, 2, 3] { c.handleReady(id) }
            c.deliverAll { $0.type != .snap }
        }
        c.nodes[1]!.reportSnapshot(3, failed: true)
        c.tickAll(3)
        let leader = texts(c, 1)
        #expect(leader.contains { $0.hasPrefix("1 [firstindex: \(applied + 1), commit: ") && $0.hasSuffix("] sent snapshot[index: \(applied), term: \(term)] to 3") },
                "\(leader)")
        #expect(leader.contains("1 snapshot failed, resumed sending replication messages to 3"), "\(leader)")
        let follower = texts(c, 3)
        #expect(follower.contains { $0.hasSuffix("restored snapshot [index: \(applied), term: \(term)]") }, "\(follower)")
    }

    @Test func nothingIsRecordedUnlessAsked() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.stabilize()
        #expect(texts(c, 1).isEmpty)
    }
}
