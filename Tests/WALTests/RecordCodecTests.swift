import Raft
import Support
import Testing
@testable import WAL

@Suite struct RecordCodecTests {
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

    /// The frame layout byte for byte (README.md): length field with the
    /// padding in its top byte, CRC-32C over length field + type bytes + body,
    /// type, body in little-endian, zero padding to 8 bytes.
    @Test func entryAndHardStateFramesHaveTheDocumentedBytes() {
        func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        func frame(type: UInt8, body: [UInt8]) -> [UInt8] {
            let pad = (8 - body.count % 8) % 8
            let length = le(UInt64(body.count) | UInt64(0x80 | pad) << 56)
            let typeBytes: [UInt8] = [type, 0, 0, 0]
            let crc = CRC32C.update(CRC32C.update(0, length), typeBytes + body)
            let crcBytes = (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }
            return length + crcBytes + typeBytes + body + [UInt8](repeating: 0, count: pad)
        }
        let entry = Entry(term: 0x0102, index: 0x0a0b0c, type: .confChange, data: [9, 8, 7])
        #expect(RecordCodec.encode(.entry(entry)) == frame(type: 2, body: le(0x0102) + le(0x0a0b0c) + [1] + [9, 8, 7]))
        #expect(RecordCodec.encode(.hardState(HardState(term: 5, vote: 6, commit: 7))) == frame(type: 3, body: le(5) + le(6) + le(7)))
        #expect(RecordCodec.encode(.snapshot(WALSnapshotMarker(index: 11, term: 12))) == frame(type: 4, body: le(11) + le(12)))
        #expect(RecordCodec.encode(.metadata([1, 2])) == frame(type: 1, body: [1, 2]))
        // Appending keeps what the buffer held.
        var out: [UInt8] = [0xee]
        RecordCodec.encode(.metadata([3]), into: &out)
        #expect(out == [0xee] + frame(type: 1, body: [3]))
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
