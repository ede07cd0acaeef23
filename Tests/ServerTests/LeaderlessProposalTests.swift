import Foundation
import Testing
@testable import Server

/// A write made while its member knows no leader (an election, or the
/// member cut off from the others) waits for a leader, as etcd's does,
/// instead of failing at once with "no leader"; one whose request gave up
/// meanwhile is never proposed.
@Suite(.serialized) struct LeaderlessProposalTests {
    @Test func proposalMadeWithoutLeaderCommitsOnceOneIsElected() throws {
        let asked = IDSet()
        let cluster = try FaultyCluster(size: 3) { id in asked.insert(id); return true }
        defer { cluster.stop() }
        _ = try proposeWithoutLeader(cluster, asked, id: 7, "parked")
        try #require(cluster.dropped.isEmpty, "refused while no leader was known")

        cluster.network.heal(dropRate: 0, maxDelayMs: 0)
        try cluster.waitUntil { cluster.applied.values.allSatisfy { $0.contains("parked") } }
        for id in cluster.ids {
            #expect(cluster.applied[id]!.filter { $0 == "parked" }.count == 1, "member \(id): \(cluster.applied[id]!)")
        }
        #expect(cluster.dropped.isEmpty)
    }

    /// The loop knows which proposals wait parked (asked on its own thread,
    /// from `onTick`, where the server expires requests).
    @Test func parkedProposalIsKnownAsParkedOnTheLoopThread() throws {
        let asked = IDSet()
        let cluster = try FaultyCluster(size: 3) { id in asked.insert(id); return true }
        defer { cluster.stop() }
        let seen = IDSet()
        let member = cluster.ids[0]
        let loop = cluster.loops[member]!
        loop.onTick = { [unowned loop] in if loop.isParked(12) { seen.insert(12) } }
        _ = try proposeWithoutLeader(cluster, asked, id: 12, "parked")
        try cluster.waitUntil { seen.contains(12) }
        #expect(seen.contains(12))
    }

    @Test func parkedProposalWhoseRequestGaveUpIsNeverProposed() throws {
        let asked = IDSet()
        let cluster = try FaultyCluster(size: 3) { id in asked.insert(id); return id != 8 }
        defer { cluster.stop() }
        let member = try proposeWithoutLeader(cluster, asked, id: 8, "gave-up")
        try #require(asked.contains(8), "the leaderless proposal was not parked")

        cluster.network.heal(dropRate: 0, maxDelayMs: 0)
        cluster.loops[member]!.propose(id: 9, data: Array("later".utf8))
        try cluster.waitUntil { cluster.applied.values.allSatisfy { $0.contains("later") } }
        for id in cluster.ids {
            #expect(!cluster.applied[id]!.contains("gave-up"), "member \(id) applied a write nobody waited for")
        }
    }
}

/// A proposal Raft drops while a leader is known (a leadership transfer
/// under way) answers etcd's "raft proposal dropped", not "no leader".
@Suite(.serialized) struct TransferProposalTests {
    @Test func proposalDuringLeaderTransferIsDroppedNotLeaderless() throws {
        let cluster = try FaultyCluster(size: 3)
        defer { cluster.stop() }
        let leader = try cluster.waitForLeader()
        let target = cluster.ids.first { $0 != leader }!
        cluster.network.isolate(target)  // the transfer waits its election timeout
        let loop = cluster.loops[leader]!
        loop.transferLeader(to: target)
        var id: UInt64 = 100
        try cluster.waitUntil {
            id += 1
            loop.propose(id: id, data: Array("during-transfer".utf8))
            return !cluster.dropped.isEmpty
        }
        #expect(cluster.dropErrors.allSatisfy { $0 == .proposalDropped }, "\(cluster.dropErrors)")
    }
}

/// A linearizable read waiting when its member loses the leader (an
/// election) keeps waiting, as etcd's does, and is served once a leader is
/// elected, instead of failing with "leader changed" when the leader is lost.
@Suite(.serialized) struct LeaderlessReadTests {
    @Test func readWaitingWhenTheLeaderIsLostIsServedOnceOneIsElected() async throws {
        let cluster = try FaultyCluster(size: 3)
        defer { cluster.stop() }
        let leader = try cluster.waitForLeader()
        let follower = cluster.ids.first { $0 != leader }!
        let loop = cluster.loops[follower]!
        for member in cluster.ids { cluster.network.isolate(member) }
        // Issued while the follower still knows the leader: its ReadIndex is lost on the way.
        let read = Task { try await loop.waitLinearizable(timeoutSeconds: 600) }
        try cluster.waitUntil { cluster.ids.allSatisfy { cluster.loops[$0]!.status.leader == 0 } }
        // Several ReadIndex retries with no leader known.
        try await Task.sleep(nanoseconds: UInt64(3 * Double(ReadIndexBatcher.retryTicks) * 0.1 * 1e9))
        cluster.network.heal(dropRate: 0, maxDelayMs: 0)
        _ = try cluster.waitForLeader()
        await #expect(throws: Never.self) { try await read.value }
    }
}

/// Cuts every member off until none knows a leader, proposes `value` on
/// the first, and waits until the loop parked it (asked whether its request
/// still waits) or refused it; returns that member.
private func proposeWithoutLeader(_ cluster: FaultyCluster, _ asked: IDSet, id: UInt64, _ value: String) throws -> UInt64 {
    _ = try cluster.waitForLeader()
    for member in cluster.ids { cluster.network.isolate(member) }
    try cluster.waitUntil { cluster.ids.allSatisfy { cluster.loops[$0]!.status.leader == 0 } }
    let member = cluster.ids[0]
    cluster.loops[member]!.propose(id: id, data: Array(value.utf8))
    try cluster.waitUntil { asked.contains(id) || cluster.dropped.contains(id) }
    return member
}

/// Thread-safe set of proposal IDs (the loops ask from their threads).
final class IDSet: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<UInt64> = []
    func insert(_ id: UInt64) { lock.withLock { _ = ids.insert(id) } }
    func contains(_ id: UInt64) -> Bool { lock.withLock { ids.contains(id) } }
}
