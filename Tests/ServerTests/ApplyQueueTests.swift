import Raft
import Testing
@testable import Server

/// What the apply thread takes from the queue the Raft loop fills.
@Suite struct ApplyQueueTests {
    static func entries(_ indices: ClosedRange<UInt64>) -> [Entry] { indices.map { Entry(term: 1, index: $0) } }

    @Test func takesInLogOrderMergingOneTermsJobs() {
        var q = ApplyQueue()
        #expect(q.isEmpty && q.take() == nil && q.lastIndex == nil)
        q.append(Self.entries(1...2), term: 3)
        q.append([], term: 3)  // nothing to queue
        q.append(Self.entries(3...3), term: 3)
        q.append(Self.entries(4...5), term: 4)
        #expect(q.lastIndex == 5)
        let first = q.take()
        #expect(first?.entries.map(\.index) == [1, 2, 3] && first?.term == 3 && first?.lastIndex == 3)
        // Another term's entries are answered with their own term: never merged.
        let second = q.take()
        #expect(second?.entries.map(\.index) == [4, 5] && second?.term == 4)
        #expect(q.isEmpty && q.take() == nil)
    }

    @Test func mergesUpToTheCapAndKeepsALongerJobWhole() {
        var q = ApplyQueue()
        let cap = UInt64(ApplyQueue.maxMergedEntries)
        q.append(Self.entries(1...cap - 1), term: 1)
        q.append(Self.entries(cap...cap + 1), term: 1)  // would pass the cap: taken next
        q.append(Self.entries(cap + 2...3 * cap), term: 1)  // alone above the cap
        #expect(q.take()?.lastIndex == cap - 1)
        #expect(q.take()?.lastIndex == cap + 1)
        #expect(q.take()?.entries.count == Int(2 * cap - 1))
        #expect(q.isEmpty)
    }

    @Test func aSteadyQueueKeepsItsOrder() {
        var q = ApplyQueue()
        var next: UInt64 = 1
        var taken: [UInt64] = []
        for round in 0..<3000 {
            // Two terms alternate so jobs never merge; the queue never empties.
            q.append([Entry(term: 1, index: next)], term: UInt64(round % 2))
            q.append([Entry(term: 1, index: next + 1)], term: UInt64(round % 2 + 1))
            next += 2
            taken += q.take()!.entries.map(\.index)
        }
        while let job = q.take() { taken += job.entries.map(\.index) }
        #expect(taken == Array(1..<next))
    }
}

/// Which thread applies a Ready's committed entries.
@Suite struct ApplyRouteTests {
    static let normal = [Entry(term: 2, index: 5), Entry(term: 2, index: 6)]
    static let withConfChange = [Entry(term: 2, index: 5), Entry(term: 2, index: 6, type: .confChange)]

    @Test func besideTheLoopUnlessAConfChangeOrASoleVoter() {
        let three = ConfState(voters: [1, 2, 3])
        #expect(ApplyRoute.of(Self.normal, confState: three, memberID: 1) == .beside)
        #expect(ApplyRoute.of(Self.withConfChange, confState: three, memberID: 1) == .onLoop)
        #expect(ApplyRoute.of(Self.normal, confState: ConfState(voters: [1]), memberID: 1) == .onLoop)
        // A sole voter with a learner (or a learner itself) has someone to heartbeat.
        #expect(ApplyRoute.of(Self.normal, confState: ConfState(voters: [1], learners: [2]), memberID: 1) == .beside)
        #expect(ApplyRoute.of(Self.normal, confState: ConfState(voters: [1], learners: [2]), memberID: 2) == .beside)
        #expect(ApplyRoute.of(Self.withConfChange, confState: ConfState(voters: [1]), memberID: 1) == .onLoop)
    }
}
