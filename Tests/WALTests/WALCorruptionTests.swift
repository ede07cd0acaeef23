import Raft
import Support
import Testing
@testable import WAL

/// Damaged segment files: a clear error naming file and offset, or a logged
/// repair of a torn tail; never a crash, never silently fewer entries.
@Suite struct WALCorruptionTests {
    let seg0 = walDir + "/0000000000000000-0000000000000000.wal"

    /// A one-segment WAL holding entries 1...n (one record each, no hard states).
    func makeWAL(_ n: UInt64, size: Int? = nil) throws -> (FaultyFileSystem, WALOptions) {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 1 << 20)
        let wal = try WAL.create(dir: walDir, metadata: [9], options: opts)
        for i in 1...n { try wal.save(hardState: nil, entries: [Entry(term: 1, index: i, data: payload(i, size: size))]) }
        try wal.close()
        return (fs, opts)
    }

    /// Offset of entry `k`'s record in segment 0 as written by `makeWAL`.
    func offset(of k: UInt64, size: Int? = nil) -> Int {
        var n = RecordCodec.encode(.metadata([9])).count + RecordCodec.encode(.snapshot(.zero)).count
        for i in 1..<k { n += RecordCodec.encode(.entry(Entry(term: 1, index: i, data: payload(i, size: size)))).count }
        return n
    }

    @Test func flippedByteInTheMiddleNamesFileAndOffset() throws {
        let (fs, opts) = try makeWAL(20)
        var b = fs.contents(seg0)!
        b[offset(of: 10) + 30] ^= 0x01
        fs.setContents(seg0, b)
        #expect {
            _ = try WAL.open(dir: walDir, from: .zero, options: opts)
        } throws: { e in
            guard case WALError.corruptRecord(let file, let off, let reason) = e else { return false }
            return file == seg0 && off == UInt64(offset(of: 10)) && reason.contains("CRC")
        }
    }

    @Test func tornTailIsTruncatedAndLogged() throws {
        let (fs, opts) = try makeWAL(12, size: 1500)
        var b = fs.contents(seg0)!
        // The last record's later sectors never reached the disk.
        let start = offset(of: 12, size: 1500)
        let boundary = (start / 512 + 1) * 512
        for i in boundary..<b.count { b[i] = 0 }
        fs.setContents(seg0, b)
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.map(\.index) == Array(1...11))
        #expect(r.wal.repairs.count == 1)
        #expect(r.wal.repairs.first?.offset == UInt64(start))
        #expect(r.wal.repairs.first?.file == seg0)
        try r.wal.save(hardState: nil, entries: [Entry(term: 1, index: 12, data: [1])])
        try r.wal.close()
        let again = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(again.entries.map(\.index) == Array(1...12))
        #expect(again.wal.repairs.isEmpty)
    }

    @Test func truncatedLastSegmentIsRepaired() throws {
        let (fs, opts) = try makeWAL(20)
        let b = fs.contents(seg0)!
        fs.setContents(seg0, Array(b[0..<offset(of: 15) + 20]))
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.map(\.index) == Array(1...14))
        #expect(r.wal.repairs.count == 1)
    }

    /// Two segments: entries 1...60 with the cut somewhere in between.
    func makeTwoSegments() throws -> (FaultyFileSystem, WALOptions, [String]) {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 4096)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        for i in 1...60 as ClosedRange<UInt64> { try wal.save(hardState: nil, entries: entries(i...i)) }
        let names = wal.segmentFileNames.map { walDir + "/" + $0 }
        try wal.close()
        return (fs, opts, names)
    }

    @Test func truncatedMiddleSegmentIsAnError() throws {
        let (fs, opts, names) = try makeTwoSegments()
        #expect(names.count >= 3)
        let b = fs.contents(names[0])!
        fs.setContents(names[0], Array(b[0..<(b.count / 2) & ~7]))
        #expect {
            _ = try WAL.open(dir: walDir, from: .zero, options: opts)
        } throws: { e in (e as? WALError)?.file == names[0] }
    }

    @Test func flippedByteInOlderSegmentIsAnError() throws {
        let (fs, opts, names) = try makeTwoSegments()
        var b = fs.contents(names[1])!
        b[b.count - 3] ^= 0x80
        fs.setContents(names[1], b)
        #expect {
            _ = try WAL.open(dir: walDir, from: .zero, options: opts)
        } throws: { e in
            guard case WALError.corruptRecord(let file, _, _) = e else { return false }
            return file == names[1]
        }
    }

    @Test func zeroedRecordInOlderSegmentIsAnError() throws {
        let (fs, opts, names) = try makeTwoSegments()
        var b = fs.contents(names[0])!
        // Wipe the second record's header (the hard-state-free entry after metadata+marker).
        let at = RecordCodec.encode(.metadata([])).count + RecordCodec.encode(.snapshot(.zero)).count
        for i in at..<at + 16 { b[i] = 0 }
        fs.setContents(names[0], b)
        #expect {
            _ = try WAL.open(dir: walDir, from: .zero, options: opts)
        } throws: { e in
            guard case WALError.corruptRecord(let file, let off, _) = e else { return false }
            return file == names[0] && off == UInt64(at)
        }
    }

    @Test func zeroedSectorInLastSegmentIsALoggedRepair() throws {
        let (fs, opts) = try makeWAL(20)
        var b = fs.contents(seg0)!
        let at = offset(of: 18)
        for i in at..<at + 16 { b[i] = 0 }
        fs.setContents(seg0, b)
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.map(\.index) == Array(1...17))
        #expect(r.wal.repairs.map(\.offset) == [UInt64(at)])
    }

    @Test func missingSegmentIsAnError() throws {
        let (fs, opts, names) = try makeTwoSegments()
        try fs.removeFile(names[1])
        #expect {
            _ = try WAL.open(dir: walDir, from: .zero, options: opts)
        } throws: { e in
            guard case WALError.missingSegment(_, let seq, let before) = e else { return false }
            return seq == 1 && names[2].hasSuffix(before)
        }
    }

    @Test func indexGapIsAnError() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        try wal.save(hardState: nil, entries: entries(1...5))
        try wal.save(hardState: nil, entries: entries(7...8))
        try wal.close()
        #expect(throws: WALError.self) { _ = try WAL.open(dir: walDir, from: .zero, options: opts) }
        do {
            _ = try WAL.open(dir: walDir, from: .zero, options: opts)
        } catch let WALError.indexGap(file, _, expected, found) {
            #expect(file == seg0 && expected == 6 && found == 7)
        }
    }

    /// Random damage anywhere: open either fails with a WALError or returns a
    /// prefix of what was written (after a logged repair). Never traps.
    @Test func randomDamageNeverCrashes() throws {
        var rng = SplitMix64(seed: 42)
        var errors = 0, repairs = 0
        for round in 0..<150 {
            let (fs, opts, names) = try makeTwoSegments()
            let victim = names[Int(rng.next() % UInt64(names.count))]
            var b = fs.contents(victim)!
            let written = b.lastIndex { $0 != 0 } ?? 0
            switch round % 3 {
            case 0: b[Int(rng.next() % UInt64(written + 1))] ^= UInt8(1 + rng.next() % 255)
            case 1: b.removeLast(b.count - Int(rng.next() % UInt64(b.count)))
            default:
                let at = Int(rng.next() % UInt64(written + 1))
                for i in at..<min(b.count, at + 1 + Int(rng.next() % 700)) { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            fs.setContents(victim, b)
            do {
                let r = try WAL.open(dir: walDir, from: .zero, options: opts)
                #expect(r.entries == Array(entries(1...60).prefix(r.entries.count)))
                if !r.wal.repairs.isEmpty { repairs += 1 }
                try r.wal.close()
            } catch is WALError {
                errors += 1
            }
        }
        #expect(errors > 0)
    }
}
