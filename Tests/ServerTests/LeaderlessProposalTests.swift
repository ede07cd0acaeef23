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
