import Foundation
import Raft
import Testing
@testable import WAL

@Suite struct WALTests {
    @Test func createSaveReopenOnDisk() throws {
        let tmp = TempDir()
        defer { tmp.cleanup() }
        let dir = tmp.path + "/member/wal"
        #expect(!WAL.exists(dir: dir))
        let wal = try WAL.create(dir: dir, metadata: [1, 2, 3])
        #expect(WAL.exists(dir: dir))
        #expect(throws: WALError.alreadyExists(dir: dir)) { _ = try WAL.create(dir: dir, metadata: []) }
        try wal.save(hardState: HardState(term: 1, vote: 1, commit: 0), entries: entries(1...10))
        try wal.save(hardState: HardState(term: 1, vote: 1, commit: 10), entries: [])
        try wal.close()
        #expect(throws: WALError.closed) { try wal.save(hardState: nil, entries: entries(11...11)) }

        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(names == ["0000000000000000-0000000000000000.wal"])
        let size = try FileManager.default.attributesOfItem(atPath: dir + "/" + names[0])[.size] as? Int
        #expect(size == 64 * 1024 * 1024, "segments are preallocated")

        let r = try WAL.open(dir: dir, from: .zero)
        #expect(r.metadata == [1, 2, 3])
        #expect(r.hardState == HardState(term: 1, vote: 1, commit: 10))
        #expect(r.entries == entries(1...10))
        try r.wal.save(hardState: nil, entries: entries(11...12))
        try r.wal.close()
        #expect(try WAL.open(dir: dir, from: .zero).entries == entries(1...12))
    }

    /// A WAL directory that cannot be listed is an error, not "no WAL": taken
    /// for an empty one, start-up blamed a deleted WAL (or made a new one).
    @Test func anUnlistableWALDirectoryThrows() throws {
        let tmp = TempDir()
        defer { tmp.cleanup() }
        let dir = tmp.path + "/wal"
        #expect(try WAL.hasSegments(dir: dir) == false)  // missing: a new member
        _ = FileManager.default.createFile(atPath: dir, contents: Data([1]))  // a file in its place
        #expect(throws: WALError.io(op: "opendir", path: dir, errno: ENOTDIR)) { _ = try WAL.hasSegments(dir: dir) }
        #expect(!WAL.exists(dir: dir))
    }

    /// A commit-only hard state is queued without an fsync of its own and
    /// becomes durable with the next synced save, in order.
    @Test func unsyncedHardStateRidesWithTheNextDurableBatch() throws {
        let tmp = TempDir()
        defer { tmp.cleanup() }
        let dir = tmp.path + "/wal"
        let wal = try WAL.create(dir: dir, metadata: [])
        try wal.save(hardState: HardState(term: 2, vote: 1, commit: 0), entries: entries(1...3))
        try wal.saveUnsynced(hardState: HardState(term: 2, vote: 1, commit: 3))
        try wal.save(hardState: nil, entries: entries(4...4))
        try wal.close()
        let r = try WAL.open(dir: dir, from: .zero)
        #expect(r.hardState == HardState(term: 2, vote: 1, commit: 3))
        #expect(r.entries == entries(1...4))
    }

    @Test func tornTailOnDiskIsRepaired() throws {
        let tmp = TempDir()
        defer { tmp.cleanup() }
        let dir = tmp.path + "/wal"
        let wal = try WAL.create(dir: dir, metadata: [4])
        try wal.save(hardState: HardState(term: 1, vote: 1, commit: 10), entries: entries(1...10))
        try wal.close()
        var end = RecordCodec.encode(.metadata([4])).count + RecordCodec.encode(.snapshot(.zero)).count
        for e in entries(1...10) { end += RecordCodec.encode(.entry(e)).count }
        end += RecordCodec.encode(.hardState(HardState(term: 1, vote: 1, commit: 10))).count
        // A big record whose first part reached the disk and the rest did not.
        let torn = RecordCodec.encode(.entry(Entry(term: 1, index: 11, data: payload(11, size: 3000))))
        let path = dir + "/0000000000000000-0000000000000000.wal"
        let h = try #require(FileHandle(forUpdatingAtPath: path))
        try h.seek(toOffset: UInt64(end))
        h.write(Data(torn[0..<(((end + 600) / 512) * 512 - end)]))
        try h.close()

        let r = try WAL.open(dir: dir, from: .zero)
        #expect(r.entries == entries(1...10))
        #expect(r.wal.repairs.map(\.offset) == [UInt64(end)])
        try r.wal.save(hardState: nil, entries: entries(11...11))
        try r.wal.close()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size == 64 * 1024 * 1024)
        let again = try WAL.open(dir: dir, from: .zero)
        #expect(again.entries == entries(1...11))
        #expect(again.wal.repairs.isEmpty)
        try again.wal.close()
    }

    @Test func laterTermOverwritesSuffixOnRead() throws {
        let fs = FaultyFileSystem()
        let wal = try WAL.create(dir: walDir, metadata: [], options: memOptions(fs))
        try wal.save(hardState: nil, entries: entries(1...5, term: 1))
        try wal.save(hardState: HardState(term: 2, vote: 2, commit: 2), entries: entries(3...4, term: 2))
        try wal.save(hardState: nil, entries: entries(5...6, term: 2))
        try wal.save(hardState: nil, entries: entries(6...6, term: 3))
        try wal.close()
        let r = try WAL.open(dir: walDir, from: .zero, options: memOptions(fs))
        #expect(r.entries == entries(1...2, term: 1) + entries(3...5, term: 2) + entries(6...6, term: 3))
        #expect(r.hardState.term == 2)
    }

    @Test func cutsSegmentsAndReadsAcrossThem() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 2048)
        let wal = try WAL.create(dir: walDir, metadata: [7], options: opts)
        for i in stride(from: UInt64(1), through: 200, by: 4) {
            try wal.save(hardState: HardState(term: 1, vote: 1, commit: i + 3), entries: entries(i...(i + 3)))
        }
        let names = wal.segmentFileNames
        #expect(names.count > 5)
        // Names sort by sequence; each first index is one past the last entry before the cut.
        let parsed = names.compactMap(SegmentName.parse)
        #expect(parsed.map(\.sequence) == Array(0..<UInt64(parsed.count)))
        #expect(parsed.dropFirst().allSatisfy { ($0.firstIndex - 1) % 4 == 0 })
        try wal.close()
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries == entries(1...200))
        #expect(r.hardState.commit == 200)
        #expect(r.metadata == [7])
    }

    @Test func snapshotMarkerOpenAndRelease() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 2048, maxSegments: 3)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        for i in 1...150 as ClosedRange<UInt64> {
            try wal.save(hardState: HardState(term: 1, vote: 1, commit: i), entries: entries(i...i))
        }
        try wal.saveSnapshotMarker(WALSnapshotMarker(index: 100, term: 1))
        try wal.save(hardState: HardState(term: 1, vote: 1, commit: 151), entries: entries(151...151))
        let before = wal.segmentFileNames
        try wal.releaseSegments(before: 100)
        let after = wal.segmentFileNames
        #expect(after.count < before.count)
        #expect(after.count >= 3)
        #expect(after == Array(before.suffix(after.count)))
        // The segment holding the marker and everything after it survive.
        let firstKept = SegmentName.parse(after[0])!
        #expect(firstKept.firstIndex <= 100)
        try wal.close()

        #expect(try WAL.validSnapshotMarkers(dir: walDir, options: opts) == [.zero, WALSnapshotMarker(index: 100, term: 1)])
        let r = try WAL.open(dir: walDir, from: WALSnapshotMarker(index: 100, term: 1), options: opts)
        #expect(r.entries == entries(101...151))
        #expect(r.hardState.commit == 151)
        try r.wal.close()
        #expect(throws: WALError.snapshotMarkerNotFound(index: 140, term: 1)) {
            _ = try WAL.open(dir: walDir, from: WALSnapshotMarker(index: 140, term: 1), options: opts)
        }
        // Below the released segments: the entries after it are gone, a clear error too.
        #expect(throws: WALError.self) {
            _ = try WAL.open(dir: walDir, from: WALSnapshotMarker(index: 20, term: 1), options: opts)
        }
        // Released releases nothing when fewer than maxSegments remain.
        let r2 = try WAL.open(dir: walDir, from: WALSnapshotMarker(index: 100, term: 1), options: opts)
        try r2.wal.releaseSegments(before: 151)
        #expect(r2.wal.segmentFileNames.count == max(3, 1))
        try r2.wal.close()
    }

    /// `open(expecting:choose:)`, which start-up uses to read the log once:
    /// whatever the expected marker (valid, not written, not committed, below
    /// the released segments), the result is `open(from:)` of the marker the
    /// chooser picks among the valid ones.
    @Test func openExpectingAMarkerEqualsOpenFromTheChosenOne() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 2048, maxSegments: 3)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        for i in 1...150 as ClosedRange<UInt64> {
            try wal.save(hardState: HardState(term: 1, vote: 1, commit: i), entries: entries(i...i))
            if i == 100 { try wal.saveSnapshotMarker(WALSnapshotMarker(index: 100, term: 1)) }
        }
        try wal.saveSnapshotMarker(WALSnapshotMarker(index: 150, term: 1))  // not committed beyond: commit is 150
        try wal.save(hardState: nil, entries: entries(151...152))
        try wal.releaseSegments(before: 100)
        try wal.close()
        let m100 = WALSnapshotMarker(index: 100, term: 1), m150 = WALSnapshotMarker(index: 150, term: 1)
        #expect(try WAL.validSnapshotMarkers(dir: walDir, options: opts) == [.zero, m100, m150])
        for expected in [m150, m100, WALSnapshotMarker(index: 151, term: 1), WALSnapshotMarker(index: 5, term: 1), .zero] {
            for pick in [m150, m100] {
                var offered: [WALSnapshotMarker] = []
                let r = try WAL.open(dir: walDir, expecting: expected, options: opts) { valid in
                    offered = valid
                    return pick
                }
                try r.wal.close()
                let reference = try WAL.open(dir: walDir, from: pick, options: opts)
                try reference.wal.close()
                #expect(offered == [.zero, m100, m150], "expected \(expected)")
                #expect(r.marker == pick && r.entries == reference.entries && r.hardState == reference.hardState,
                        "expected \(expected), picked \(pick)")
            }
        }
    }

    @Test func followerSnapshotBeyondLogThenContinues() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        try wal.save(hardState: nil, entries: entries(1...10))
        // The leader sends a snapshot at 100; the log restarts after it.
        try wal.saveSnapshotMarker(WALSnapshotMarker(index: 100, term: 2))
        try wal.save(hardState: HardState(term: 2, vote: 0, commit: 102), entries: entries(101...102, term: 2))
        try wal.close()
        let r = try WAL.open(dir: walDir, from: WALSnapshotMarker(index: 100, term: 2), options: opts)
        #expect(r.entries == entries(101...102, term: 2))
    }

    @Test func groupCommitManyConcurrentAppenders() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 64 * 1024)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        fs.syncDelayMicros = 2_000
        let threads = 16, perThread = 20
        let syncsBefore = fs.syncCalls
        runThreads(threads) { t in
            for k in 0..<perThread {
                let idx = try! wal.appendEntry(term: 1, data: [UInt8(t), UInt8(k)])
                precondition(idx >= 1)
            }
        }
        try wal.close()
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.count == threads * perThread)
        #expect(r.entries.map(\.index) == Array(1...UInt64(threads * perThread)))
        // Every appender's records are there, in its own order.
        for t in 0..<threads {
            let mine = r.entries.filter { $0.data[0] == UInt8(t) }.map { $0.data[1] }
            #expect(mine == (0..<perThread).map { UInt8($0) })
        }
        // Appenders waiting behind a flush share the next one.
        #expect(fs.syncCalls - syncsBefore <= threads * perThread / 2)
    }
}
