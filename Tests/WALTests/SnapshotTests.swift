import Foundation
import Raft
import Testing
@testable import WAL

@Suite struct SnapshotTests {
    func snap(_ index: UInt64, term: UInt64 = 1) -> Snapshot {
        Snapshot(metadata: SnapshotMetadata(index: index, term: term, confState: ConfState(voters: [1, 2, 3], learners: [4])),
                 data: payload(index, size: 300))
    }

    @Test func saveLoadKeepsNewestFive() throws {
        let fs = FaultyFileSystem()
        let store = try SnapshotStore(dir: "/data/member/snap", maxSnapshots: 5, fileSystem: fs)
        for i in 1...7 as ClosedRange<UInt64> { try store.save(snap(i * 10)) }
        #expect(try store.fileNames().count == 5)
        #expect(try store.fileNames().first == "0000000000000001-0000000000000046.snap")
        #expect(try store.loadNewest(validMarkers: nil) == snap(70))
        #expect(try store.loadNewest(validMarkers: [WALSnapshotMarker(index: 50, term: 1), .zero]) == snap(50))
        #expect(try store.loadNewest(validMarkers: [WALSnapshotMarker(index: 10, term: 1)]) == nil)
        #expect(try fs.listDirectory("/data/member/snap").allSatisfy { !$0.hasSuffix(".tmp") })
    }

    @Test func crashDuringSaveLeavesOldOrNewNeverGarbage() throws {
        let dir = "/data/member/snap"
        let probe = FaultyFileSystem()
        try SnapshotStore(dir: dir, maxSnapshots: 1, fileSystem: probe).save(snap(10))
        let before = probe.mutatingOps
        try SnapshotStore(dir: dir, maxSnapshots: 1, fileSystem: probe).save(snap(20))
        let ops = probe.mutatingOps - before
        for crashAt in 0...ops {
            for seed in 0..<4 as Range<UInt64> {
                let fs = FaultyFileSystem()
                let store = try SnapshotStore(dir: dir, maxSnapshots: 1, fileSystem: fs)
                try store.save(snap(10))
                fs.crashAfterOps = fs.mutatingOps + crashAt
                let acked = (try? store.save(snap(20))) != nil
                fs.crash(seed: seed)
                let loaded = try SnapshotStore(dir: dir, maxSnapshots: 1, fileSystem: fs).loadNewest(validMarkers: nil)
                if acked {
                    #expect(loaded == snap(20), "crashAt=\(crashAt) seed=\(seed)")
                } else {
                    #expect(loaded == snap(10) || loaded == snap(20), "crashAt=\(crashAt) seed=\(seed)")
                }
            }
        }
    }

    /// A damaged snapshot file is never skipped for an older one: loading
    /// throws, naming the file and the offset; files without a marker are
    /// not read at all.
    @Test func garbageSnapshotStopsLoadingAndIsNamed() throws {
        let tmp = TempDir()
        defer { tmp.cleanup() }
        let dir = tmp.path + "/member/snap"
        let store = try SnapshotStore(dir: dir)
        try store.save(snap(10))
        try store.save(snap(20))
        let newest = dir + "/0000000000000001-0000000000000014.snap"
        try Data("not a snapshot at all".utf8).write(to: URL(fileURLWithPath: newest))
        #expect {
            _ = try store.load(fileName: "0000000000000001-0000000000000014.snap")
        } throws: { e in
            guard case WALError.corruptSnapshot(let file, _, _) = e else { return false }
            return file == newest && "\(e)".contains(newest)
        }
        #expect {
            _ = try store.loadNewest(validMarkers: nil)
        } throws: { e in
            guard case WALError.corruptSnapshot(let file, let offset, _) = e else { return false }
            return file == newest && offset == 0
        }
        #expect(!FileManager.default.fileExists(atPath: newest + ".broken"))
        // Its marker is not valid: the older snapshot is the one to load.
        #expect(try store.loadNewest(validMarkers: [WALSnapshotMarker(index: 10, term: 1)]) == snap(10))
        // Moved aside by the operator, the older one loads.
        try FileManager.default.moveItem(atPath: newest, toPath: newest + ".broken")
        #expect(try store.loadNewest(validMarkers: nil) == snap(10))
    }

    @Test func flippedOrTruncatedSnapshotFailsCRC() throws {
        let bytes = SnapshotCodec.encode(snap(5))
        #expect(try SnapshotCodec.decode(bytes, file: "f") == snap(5))
        for i in stride(from: 0, to: bytes.count, by: 37) {
            var b = bytes
            b[i] ^= 0x10
            #expect(throws: WALError.self) { _ = try SnapshotCodec.decode(b, file: "f") }
        }
        for n in [0, 3, 12, 40, bytes.count - 1] {
            #expect(throws: WALError.self) { _ = try SnapshotCodec.decode(Array(bytes[0..<n]), file: "f") }
        }
    }

    @Test func inMemoryStateMachineRoundTrip() throws {
        let a = InMemoryStateMachine()
        a.apply(index: 1, key: "x", value: [1])
        a.apply(index: 2, key: "y", value: [2, 2])
        a.apply(index: 3, key: "x", value: [3])
        #expect(throws: SnapshotterError.notAtIndex(requested: 2, applied: 3)) { _ = try a.snapshotData(atApplied: 2) }
        let data = try a.snapshotData(atApplied: 3)
        let b = InMemoryStateMachine()
        try b.installSnapshotData(data)
        #expect(b.values == ["x": [3], "y": [2, 2]])
        #expect(b.appliedIndex == 3)
        #expect(throws: SnapshotterError.malformed) { try b.installSnapshotData(Array(data.dropLast())) }
    }

    @Test func snapshotPolicy() {
        let p = SnapshotPolicy(snapshotCount: 100, catchUpEntries: 30)
        #expect(p.decide(appliedIndex: 100, lastSnapshotIndex: 0) == nil)
        #expect(p.decide(appliedIndex: 101, lastSnapshotIndex: 0) == .init(snapshotIndex: 101, compactIndex: 71))
        #expect(p.decide(appliedIndex: 150, lastSnapshotIndex: 101) == nil)
        #expect(p.decide(appliedIndex: 20, lastSnapshotIndex: 30) == nil)
        #expect(SnapshotPolicy(snapshotCount: 5, catchUpEntries: 30).decide(appliedIndex: 10, lastSnapshotIndex: 0)
                == .init(snapshotIndex: 10, compactIndex: 0))
        #expect(SnapshotPolicy().snapshotCount == 100_000)
    }
}
