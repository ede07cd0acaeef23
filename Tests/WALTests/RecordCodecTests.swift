import Raft
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
