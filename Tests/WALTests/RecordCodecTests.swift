import Raft
import Testing
@testable import WAL

@Suite struct RecordCodecTests {
    @Test func crc32cKnownVector() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // Slicing path and byte path agree.
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var bytewise: UInt32 = 0
        for b in long { bytewise = [b].withUnsafeBytes { CRC32C.update(bytewise, $0) } }
        #expect(bytewise == CRC32C.checksum(long))
    }

    /// The CPU instruction and the table agree at every length and alignment.
    @Test func crc32cInstructionMatchesTable() {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        bytes.withUnsafeBytes { all in
            for offset in 0..<9 {
                for length in [0, 1, 3, 7, 8, 9, 15, 16, 17, 100, 511, 4096, 4991] where offset + length <= all.count {
                    let part = UnsafeRawBufferPointer(rebasing: all[offset..<offset + length])
                    #expect(CRC32C.update(0x1234_5678, part) == CRC32C.software(0x1234_5678, part), "offset \(offset) length \(length)")
                }
            }
        }
        #if arch(x86_64)
        #expect(CRC32C.hardware, "this x86-64 CPU should have SSE4.2")
        #endif
    }

    @Test func roundTripsEveryRecordTypeAligned() {
        let records: [WALRecord] = [
            .metadata(Array("member-1".utf8)),
            .metadata([]),
            .entry(Entry(term: 3, index: 7, type: .confChange, data: [1, 2, 3])),
            .entry(Entry(term: 1, index: 1, data: [])),
            .entry(Entry(term: 9, index: 10, data: payload(10, size: 1000))),
            .hardState(HardState(term: 4, vote: 2, commit: 99)),
            .snapshot(WALSnapshotMarker(index: 50, term: 3)),
        ]
        var buf: [UInt8] = []
        for r in records {
            RecordCodec.encode(r, into: &buf)
            #expect(buf.count % 8 == 0)
        }
        var offset = 0
        for r in records {
            guard case .record(let got, let next) = RecordCodec.decode(buf, at: offset) else {
                Issue.record("decode failed at \(offset)")
                return
            }
            #expect(got == r)
            offset = next
        }
        buf.append(contentsOf: [UInt8](repeating: 0, count: 64))
        guard case .end = RecordCodec.decode(buf, at: offset) else { Issue.record("expected end"); return }
    }

    @Test func detectsFlippedBitsAndTornFrames() {
        let rec = RecordCodec.encode(.entry(Entry(term: 1, index: 1, data: payload(1, size: 2000))))
        for i in [9, 12, 20, 700, rec.count - 10] {
            var b = rec
            b[i] ^= 0x40
            guard case .bad(_, let torn) = RecordCodec.decode(b, at: 0) else { Issue.record("flip at \(i) undetected"); continue }
            #expect(!torn, "a flipped byte is corruption, not a torn write")
        }
        // Torn: the sectors after the first never reached the disk.
        var torn = rec
        for i in 512..<torn.count { torn[i] = 0 }
        guard case .bad(_, true) = RecordCodec.decode(torn, at: 0) else { Issue.record("torn frame not recognised"); return }
        // Truncated: frame runs past the end.
        guard case .bad(_, true) = RecordCodec.decode(Array(rec[0..<100]), at: 0) else { Issue.record("short frame"); return }
    }

    @Test func segmentNamesSortAndParse() {
        let n = SegmentName(sequence: 0x1a, firstIndex: 0x2b3c)
        #expect(n.description == "000000000000001a-0000000000002b3c.wal")
        #expect(SegmentName.parse(n.description) == n)
        #expect(SegmentName.parse("000000000000001a-0000000000002b3c.wal.tmp") == nil)
        #expect(SegmentName.parse("junk.wal") == nil)
    }
}
