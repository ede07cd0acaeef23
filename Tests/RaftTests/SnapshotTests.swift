import Testing
@testable import Raft

/// Paper §7: log compaction and InstallSnapshot.
@Suite struct SnapshotTests {
    @Test func laggingFollowerGetsSnapshotThenLog() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.down.insert(3)
        for i in 0..<10 { try c.propose(1, "e\(i)") }
        let s1 = c.storages[1]!
        let applied = c.status(1).applied
        try s1.createSnapshot(index: applied, confState: c.status(1).confState, data: Array("state".utf8))
        try s1.compact(upTo: applied)
        try c.propose(1, "after")
        try c.restart(3)
        c.delivered.removeAll()
        c.tickAll(3)
        #expect(c.delivered.contains { $0.type == .snap && $0.to == 3 })
        c.nodes[1]!.reportSnapshot(3, failed: false)
        c.tickAll(3)
        #expect(try c.storages[3]!.snapshot().metadata.index == applied)
        #expect(try c.storages[3]!.snapshot().data == Array("state".utf8))
        #expect(c.appliedStrings(3) == ["after"])
        #expect(c.status(3).commit == c.status(1).commit)
    }

    @Test func failedSnapshotIsRetried() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        c.down.insert(3)
        for i in 0..<5 { try c.propose(1, "e\(i)") }
        let applied = c.status(1).applied
        try c.storages[1]!.createSnapshot(index: applied, confState: c.status(1).confState, data: [1])
        try c.storages[1]!.compact(upTo: applied)
        try c.restart(3)
        // The transport loses the snapshot.
        for _ in 0..<10 where c.status(1).progress[3]?.state != .snapshot {
            c.tick(1)
            for id: UInt64 in [1, 2, 3] { c.handleReady(id) }
            c.deliverAll { $0.type != .snap }
        }
        #expect(c.status(1).progress[3]?.state == .snapshot)
        c.nodes[1]!.reportSnapshot(3, failed: true)
        #expect(c.status(1).progress[3]?.state == .probe)
        c.tickAll(3)
        #expect(try c.storages[3]!.snapshot().metadata.index == applied)
    }

    @Test func followerIgnoresStaleSnapshot() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        let commit = c.status(2).commit
        let r = c.raft(2)
        let stale = Snapshot(metadata: SnapshotMetadata(index: 1, term: 1, confState: ConfState(voters: [1, 2, 3])))
        #expect(r.restore(stale) == false)
        #expect(r.log.committed == commit)
    }

    @Test func restartFromSnapshotAndLog() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        for i in 0..<4 { try c.propose(1, "e\(i)") }
        let s = c.storages[2]!
        let applied = c.status(2).applied
        try s.createSnapshot(index: applied - 1, confState: c.status(2).confState, data: [])
        try s.compact(upTo: applied - 1)
        try c.restart(2)
        #expect(c.status(2).applied == applied - 1)
        #expect(c.nodes[2]!.hasReady())
        let rd = c.nodes[2]!.ready()
        #expect(rd.committedEntries.map(\.index) == [applied])
    }
}

@Suite struct MemoryStorageTests {
    func storage() throws -> MemoryStorage {
        let s = MemoryStorage()
        try s.append((1...5).map { Entry(term: $0 < 3 ? 1 : 2, index: $0, data: [UInt8]($0 == 3 ? [1, 2, 3] : [])) })
        return s
    }

    @Test func indexesAndTerms() throws {
        let s = try storage()
        #expect(try s.firstIndex() == 1)
        #expect(try s.lastIndex() == 5)
        #expect(try s.term(of: 0) == 0)
        #expect(try s.term(of: 4) == 2)
        #expect(throws: RaftError.unavailable) { try s.term(of: 6) }
    }

    @Test func entriesHonourSizeLimitButReturnAtLeastOne() throws {
        let s = try storage()
        #expect(try s.entries(from: 2, to: 6, maxSizeBytes: Int.max).count == 4)
        #expect(try s.entries(from: 2, to: 6, maxSizeBytes: 0).count == 1)
        #expect(try s.entries(from: 2, to: 6, maxSizeBytes: 35).count == 2)
        #expect(throws: RaftError.unavailable) { try s.entries(from: 2, to: 7, maxSizeBytes: 10) }
    }

    @Test func compactKeepsTermOfSnapshotPoint() throws {
        let s = try storage()
        try s.compact(upTo: 3)
        #expect(try s.firstIndex() == 4)
        #expect(try s.term(of: 3) == 2)
        #expect(throws: RaftError.compacted) { try s.term(of: 2) }
        #expect(throws: RaftError.compacted) { try s.entries(from: 3, to: 5, maxSizeBytes: 100) }
        #expect(throws: RaftError.compacted) { try s.compact(upTo: 2) }
    }

    @Test func appendTruncatesConflictsAndIgnoresCompacted() throws {
        let s = try storage()
        try s.compact(upTo: 2)
        try s.append([Entry(term: 1, index: 2), Entry(term: 3, index: 3), Entry(term: 3, index: 4)])
        #expect(try s.lastIndex() == 4)
        #expect(try s.term(of: 3) == 3)
        #expect(try s.firstIndex() == 3)
    }

    @Test func snapshots() throws {
        let s = try storage()
        let snap = try s.createSnapshot(index: 4, confState: ConfState(voters: [1]), data: [7])
        #expect(snap.metadata.term == 2)
        #expect(throws: RaftError.snapshotOutOfDate) { try s.createSnapshot(index: 3, confState: nil, data: []) }
        let newer = Snapshot(metadata: SnapshotMetadata(index: 10, term: 4, confState: ConfState(voters: [1, 2])), data: [8])
        try s.applySnapshot(newer)
        #expect(try s.firstIndex() == 11)
        #expect(try s.lastIndex() == 10)
        #expect(try s.initialState().1.voters == [1, 2])
        #expect(throws: RaftError.snapshotOutOfDate) { try s.applySnapshot(snap) }
    }
}
