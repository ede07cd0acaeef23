import Raft
import Testing
@testable import WAL

/// Recovery reads segments in bounded chunks (`SegmentScanner`): records
/// that cross chunk boundaries, torn tails and damage found across them give
/// exactly what reading each segment whole gives, and memory stays bounded
/// by the chunk, not the segment.
@Suite struct WALChunkedReadTests {
    /// Chunk sizes around the interesting sizes: a length field, a header,
    /// a sector, the alignment, records; and "whole segment at once".
    static let chunkSizes = [1, 7, 8, 16, 100, 511, 512, 600, 4095, 4096, 5000, 1 << 20]

    /// Entries of very different sizes (some span several sectors and chunks).
    static func entry(_ i: UInt64) -> Entry {
        let sizes = [0, 3, 40, 509, 1100, 5000]
        return Entry(term: 1 + i / 30, index: i, data: payload(i, size: sizes[Int(i % UInt64(sizes.count))]))
    }

    /// A WAL of `n` entries with hard states in 16 KiB segments (several segments).
    static func makeWAL(_ n: UInt64 = 60) throws -> FaultyFileSystem {
        let fs = FaultyFileSystem()
        let wal = try WAL.create(dir: walDir, metadata: [7], options: memOptions(fs, segmentBytes: 16 << 10))
        for i in 1...n {
            try wal.save(hardState: HardState(term: 1 + i / 30, vote: 1, commit: i - 1), entries: [entry(i)])
        }
        try wal.close()
        return fs
    }

    /// What opening gives, compared as text: entries, hard state, repairs, or the error.
    static func outcome(_ fs: FaultyFileSystem, chunk: Int) -> String {
        // Each open may repair; work on a copy of the files.
        let copy = FaultyFileSystem()
        try? copy.createDirectory(walDir)
        for name in (try? fs.listDirectory(walDir)) ?? [] {
            copy.setContents(walDir + "/" + name, fs.contents(walDir + "/" + name)!)
        }
        do {
            let r = try WAL.open(dir: walDir, from: .zero, options: memOptions(copy, segmentBytes: 16 << 10, readChunkBytes: chunk))
            try r.wal.close()
            return "entries \(r.entries.map(\.index)) \(r.entries.map(\.data.count)) hs \(r.hardState) repairs \(r.wal.repairs)"
        } catch {
            return "error \(error)"
        }
    }

    static func segments(_ fs: FaultyFileSystem) throws -> [String] {
        try fs.listDirectory(walDir).filter { $0.hasSuffix(".wal") }.map { walDir + "/" + $0 }
    }

    @Test func everyChunkSizeReadsTheSameLog() throws {
        let fs = try Self.makeWAL()
        #expect(try Self.segments(fs).count >= 3)
        let whole = Self.outcome(fs, chunk: Int.max / 2)
        #expect(whole.hasPrefix("entries \(Array(1...60))"), "\(whole)")
        for chunk in Self.chunkSizes {
            #expect(Self.outcome(fs, chunk: chunk) == whole, "chunk \(chunk)")
        }
    }

    /// Torn tails cut at every sector boundary of the last segment's last
    /// records, zeroed sectors inside a record, and flipped bytes in every
    /// segment: each chunk size reports what the whole-segment read reports.
    @Test func damageAcrossChunkBoundariesMatchesWholeReads() throws {
        let pristine = try Self.makeWAL()
        let segs = try Self.segments(pristine)
        let last = segs.last!
        let bytes = pristine.contents(last)!
        let written = (bytes.lastIndex { $0 != 0 } ?? 0) + 1
        var cases: [(String, String, [UInt8])] = []
        for cut in stride(from: max(0, written - 12_000) / 512 * 512, to: written, by: 512) {
            var b = bytes
            for i in cut..<b.count { b[i] = 0 }
            cases.append(("torn at \(cut)", last, b))
        }
        for hole in stride(from: 1024, to: written, by: 1536) {
            var b = bytes
            for i in hole..<min(hole + 512, b.count) { b[i] = 0 }
            cases.append(("zero sector at \(hole)", last, b))
        }
        cases.append(("truncated mid-record", last, Array(bytes[0..<written - 700])))
        for seg in segs {
            let b0 = pristine.contents(seg)!
            let used = (b0.lastIndex { $0 != 0 } ?? 0) + 1
            for at in stride(from: 3, to: used, by: 2_311) {
                var b = b0
                b[at] ^= 0x20
                cases.append(("flip \(seg.suffix(30)) at \(at)", seg, b))
            }
        }
        var repairs = 0, errors = 0
        for (name, file, b) in cases {
            let fs = try Self.makeWAL()
            fs.setContents(file, b)
            let whole = Self.outcome(fs, chunk: Int.max / 2)
            if whole.contains("truncated torn tail") { repairs += 1 }
            if whole.hasPrefix("error") { errors += 1 }
            for chunk in [1, 8, 100, 600, 4096, 5000] {
                #expect(Self.outcome(fs, chunk: chunk) == whole, "\(name), chunk \(chunk)")
            }
        }
        #expect(repairs > 10 && errors > 5, "the cases must exercise both repairs (\(repairs)) and errors (\(errors))")
    }

    /// A torn record larger than the chunk, whose missing part starts past
    /// the first chunk: repaired at the record's start.
    @Test func tornRecordSpanningChunksIsRepairedAtItsStart() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 1 << 20, readChunkBytes: 1000)
        let wal = try WAL.create(dir: walDir, metadata: [1], options: opts)
        try wal.save(hardState: nil, entries: [Entry(term: 1, index: 1, data: payload(1, size: 100))])
        try wal.save(hardState: nil, entries: [Entry(term: 1, index: 2, data: payload(2, size: 6000))])
        try wal.close()
        let seg = walDir + "/0000000000000000-0000000000000000.wal"
        var b = fs.contents(seg)!
        let start = RecordCodec.encode(.metadata([1])).count + RecordCodec.encode(.snapshot(.zero)).count
            + RecordCodec.encode(.entry(Entry(term: 1, index: 1, data: payload(1, size: 100)))).count
        let lost = (start + 3000) / 512 * 512  // sectors from here never reached the disk
        for i in lost..<b.count { b[i] = 0 }
        fs.setContents(seg, b)
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.map(\.index) == [1])
        #expect(r.wal.repairs.map(\.offset) == [UInt64(start)])
    }

    /// Opening a WAL of 1 MiB segments in 4 KiB chunks never reads more
    /// than a chunk plus one record and the alignment at once.
    @Test func memoryIsBoundedByTheChunkNotTheSegment() throws {
        let fs = FaultyFileSystem()
        let wal = try WAL.create(dir: walDir, metadata: [2], options: memOptions(fs, segmentBytes: 1 << 20))
        for i in UInt64(1)...1200 {
            try wal.save(hardState: HardState(term: 1, vote: 1, commit: i), entries: [Entry(term: 1, index: i, data: payload(i, size: 2000))])
        }
        try wal.close()
        #expect(try Self.segments(fs).count >= 2)
        let r = try WAL.open(dir: walDir, from: .zero, options: memOptions(fs, segmentBytes: 1 << 20, readChunkBytes: 4096))
        #expect(r.entries.count == 1200)
        #expect(fs.largestReadBytes <= 4096 + 4096 + 2100, "read \(fs.largestReadBytes) bytes at once")
        #expect(fs.readCalls > 500)
    }

    /// A garbage length field announcing a body far past the end of the
    /// last segment is a torn tail found from the field alone: the rest of
    /// the segment is not loaded for it.
    @Test func bogusLengthFieldIsNotLoaded() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 1 << 20, readChunkBytes: 4096)
        let wal = try WAL.create(dir: walDir, metadata: [3], options: opts)
        try wal.save(hardState: nil, entries: [Entry(term: 1, index: 1, data: [1, 2, 3])])
        try wal.close()
        let seg = walDir + "/0000000000000000-0000000000000000.wal"
        var b = fs.contents(seg)!
        let end = RecordCodec.encode(.metadata([3])).count + RecordCodec.encode(.snapshot(.zero)).count
            + RecordCodec.encode(.entry(Entry(term: 1, index: 1, data: [1, 2, 3]))).count
        let field = UInt64(1 << 30) | UInt64(0x80) << 56  // 1 GiB body, no padding
        for k in 0..<8 { b[end + k] = UInt8(truncatingIfNeeded: field >> (8 * UInt64(k))) }
        fs.setContents(seg, b)
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.map(\.index) == [1])
        #expect(r.wal.repairs.first?.reason.contains("runs past the end") == true)
        #expect(fs.largestReadBytes <= 8192, "read \(fs.largestReadBytes) bytes at once")
    }
}
