import Foundation
import Raft
import Testing
@testable import Server

/// A long apply runs beside the Raft loop (`ApplyStage`): the loop keeps
/// ticking, heartbeating and replicating meanwhile, so the leader keeps its
/// leadership, and what depends on the applied index (linearizable reads)
/// still waits for the apply. Three real loops; the leader's apply of one
/// entry is held until the test releases it.
@Suite(.serialized) struct RaftLoopLongApplyTests {
    @Test func leaderKeepsLeadingAndReplicatingWhileAnApplyIsHeld() throws {
        let gate = ApplyHold()
        // Election timeout 1 s (100 ticks of 10 ms); the apply is held for 3 s.
        let cluster = try FaultyCluster(size: 3, electionTicks: 100, beforeApply: { member, data in gate.pass(member: member, data) })
        defer {
            gate.release()
            cluster.stop()
        }
        let leader = try cluster.waitForLeader()
        let loop = cluster.loops[leader]!
        let term = loop.status.term
        let followers = cluster.ids.filter { $0 != leader }
        gate.hold(member: leader, data: "big")
        loop.propose(id: 1, data: Array("big".utf8))
        try cluster.waitUntil(seconds: 60) { gate.isHolding }

        // Registered now, the read's index covers "big": it waits for its apply.
        let read = ReadOutcome()
        _ = loop.registerLinearizable(timeoutSeconds: 120) { read.finish($0) }
        for i in 0..<30 {
            loop.propose(id: UInt64(10 + i), data: Array("after\(i)".utf8))
            // Replication goes on: the followers apply what the leader proposes.
            try cluster.waitUntil(seconds: 20) { followers.allSatisfy { cluster.applied[$0]!.contains("after\(i)") } }
            usleep(100_000)
        }
        #expect(gate.isHolding)
        #expect(cluster.ids.allSatisfy { cluster.loops[$0]!.status.leader == leader }, "leadership moved during the apply")
        #expect(loop.status.term == term)
        let held = loop.status
        #expect(held.appliedIndex < held.commitIndex, "\(held)")
        #expect(!read.isDone, "a linearizable read was served before the entries before it were applied")

        gate.release()
        try cluster.waitUntil { read.isDone }
        #expect(read.error == nil, "\(String(describing: read.error))")
        try cluster.waitUntil {
            let logs = cluster.ids.map { cluster.applied[$0]! }
            return logs.allSatisfy { $0 == logs[0] } && logs[0].contains("after29")
        }
        let log = cluster.applied[leader]!
        #expect(log == ["big"] + (0..<30).map { "after\($0)" }, "\(log)")
        #expect(loop.status.leader == leader && loop.status.term == term)
    }
}

/// Holds the apply call that carries `data` on `member` until `release`.
private final class ApplyHold: @unchecked Sendable {
    private let condition = NSCondition()
    private var target: (member: UInt64, data: String)?
    private var released = false
    private var holding = false

    var isHolding: Bool { condition.withLock { holding } }

    func hold(member: UInt64, data: String) { condition.withLock { target = (member, data) } }

    func release() {
        condition.withLock {
            released = true
            condition.broadcast()
        }
    }

    /// Called by the member's applier (on its apply thread) before it records `data`.
    func pass(member: UInt64, _ data: [String]) {
        condition.withLock {
            guard let target, target.member == member, data.contains(target.data) else { return }
            holding = true
            while !released { condition.wait() }
            holding = false
        }
    }
}

private final class ReadOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var failure: Error?
    var isDone: Bool { lock.withLock { done } }
    var error: Error? { lock.withLock { failure } }
    func finish(_ error: Error?) {
        lock.withLock {
            done = true
            failure = error
        }
    }
}
