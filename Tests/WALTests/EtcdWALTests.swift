import Foundation
import Raft
import Support
import Testing
@testable import WAL

/// etcd's WAL format, read from segments built here as etcd writes them.
@Suite struct EtcdWALTests {
    /// Writes etcd WAL segments: walpb.Record frames with chained CRC-32C.
    struct SegmentWriter {
        var crc: UInt32 = 0
        var bytes: [UInt8] = []

        static func varint(_ v: UInt64, into out: inout [UInt8]) {
            var v = v
            while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
            out.append(UInt8(v))
        }

        static func message(_ fields: [(UInt64, Any)]) -> [UInt8] {
            var out: [UInt8] = []
            for (number, value) in fields {
                if let v = value as? UInt64 {
                    varint(number << 3, into: &out); varint(v, into: &out)
                } else if let b = value as? [UInt8] {
                    varint(number << 3 | 2, into: &out); varint(UInt64(b.count), into: &out); out += b
                }
            }
            return out
        }

        /// A new segment opens with the running CRC.
        mutating func startSegment() -> [UInt8] {
            defer { bytes = [] }
            let done = bytes
            bytes = []
            frame(type: 4, crc: crc, data: [])
            return done
        }

        mutating func record(type: UInt64, data: [UInt8]) {
            crc = data.withUnsafeBytes { CRC32C.update(crc, $0) }
            frame(type: type, crc: crc, data: data)
        }

        mutating func frame(type: UInt64, crc: UInt32, data: [UInt8]) {
            var fields: [(UInt64, Any)] = [(1, type), (2, UInt64(crc))]
            if !data.isEmpty { fields.append((3, data)) }
            let body = Self.message(fields)
            let padding = (8 - body.count % 8) % 8
            var length = UInt64(body.count)
            if padding > 0 { length |= (0x80 | UInt64(padding)) << 56 }
            withUnsafeBytes(of: length.littleEndian) { bytes += $0 }
            bytes += body + [UInt8](repeating: 0, count: padding)
        }

        mutating func entry(term: UInt64, index: UInt64, data: [UInt8], type: UInt64 = 0) {
            record(type: 2, data: Self.message([(1, type), (2, term), (3, index), (4, data)]))
        }

        mutating func hardState(term: UInt64, vote: UInt64, commit: UInt64) {
            record(type: 3, data: Self.message([(1, term), (2, vote), (3, commit)]))
        }

        /// The segment's bytes followed by preallocated zeros.
        func finished(zeros: Int = 4096) -> [UInt8] { bytes + [UInt8](repeating: 0, count: zeros) }
    }

    /// Two segments: entries 1...6, a new leader's entries 5' and 6' (term 3), state commit 6.
    static func sampleLog(bigLastEntry: Bool = false) -> [[UInt8]] {
        var w = SegmentWriter()
        _ = w.startSegment()
        w.record(type: 1, data: [0x08, 0x07])  // metadata
        w.record(type: 5, data: [])  // snapshot 0/0
        for i in UInt64(1)...4 { w.entry(term: 2, index: i, data: Array("req\(i)".utf8)) }
        let first = w.finished(zeros: 0)
        _ = w.startSegment()
        w.record(type: 1, data: [0x08, 0x07])
        w.entry(term: 2, index: 5, data: Array("old5".utf8))
        w.entry(term: 2, index: 6, data: Array("old6".utf8))
        w.entry(term: 3, index: 5, data: Array("new5".utf8))
        w.entry(term: 3, index: 6, data: Array("new6".utf8))
        w.hardState(term: 3, vote: 1, commit: 6)
        if bigLastEntry { w.entry(term: 3, index: 7, data: [UInt8](repeating: 7, count: 2000)) }
        return [first, w.finished()]
    }

    static func writeDir(_ segments: [[UInt8]]) throws -> String {
        let dir = NSTemporaryDirectory() + "etcd-wal-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (i, bytes) in segments.enumerated() {
            let name = String(format: "%016llx-%016llx.wal", UInt64(i), UInt64(i == 0 ? 0 : 5 * i))
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        return dir
    }

    /// raftpb.ConfChange{ID: 7, Type: RemoveNode, NodeID: 0x1234} as etcd encodes it.
    @Test func aRemoveNodeConfChangeNamesTheMember() {
        let remove: [UInt8] = [0x08, 0x07, 0x10, 0x01, 0x18, 0xB4, 0x24]
        #expect(EtcdWALEntry(term: 2, index: 9, type: 1, data: remove).removedNodeID == 0x1234)
        var add = remove
        add[3] = 0  // AddNode
        #expect(EtcdWALEntry(term: 2, index: 9, type: 1, data: add).removedNodeID == nil)
        #expect(EtcdWALEntry(term: 2, index: 9, type: 0, data: remove).removedNodeID == nil)
        #expect(EtcdWALEntry(term: 2, index: 9, type: 1, data: [0x18, 0xFF]).removedNodeID == nil)  // truncated varint
    }

    @Test func readsTheLogAfterAnIndexWithOverwrites() throws {
        let dir = try Self.writeDir(Self.sampleLog())
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let contents = try EtcdWALReader.read(dir: dir, afterIndex: 3)
        #expect(contents.metadata == [0x08, 0x07])
        #expect(contents.hardState == HardState(term: 3, vote: 1, commit: 6))
        #expect(contents.entries.map(\.index) == [4, 5, 6])
        #expect(contents.entries.map { String(decoding: $0.data, as: UTF8.self) } == ["req4", "new5", "new6"])
        #expect(contents.entries.map(\.term) == [2, 3, 3])
        #expect(try EtcdWALReader.read(dir: dir, afterIndex: 6).entries.isEmpty)
    }

    @Test func aBrokenCRCNamesTheSegmentAndOffset() throws {
        var segments = Self.sampleLog()
        // Flip a byte inside the data of the third entry of the first segment.
        let at = segments[0].count - 10
        segments[0][at] ^= 0x01
        let dir = try Self.writeDir(segments)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try EtcdWALReader.read(dir: dir, afterIndex: 0)
            Issue.record("read a damaged WAL")
        } catch let e as EtcdWALError {
            #expect(e.file.hasSuffix("0000000000000000-0000000000000000.wal"))
            #expect(e.offset > 0 && e.offset < Int64(segments[0].count))
            #expect(e.reason.contains("CRC") || e.reason.contains("walpb"))
        }
    }

    @Test func aTornLastRecordEndsTheLogButNotEarlier() throws {
        // The last record is a 2000-byte entry whose last sectors never reached the disk.
        func log() -> [[UInt8]] { Self.sampleLog(bigLastEntry: true) }
        var torn = log()
        let end = torn[1].count - 4096
        for i in (end - 700)..<end { torn[1][i] = 0 }
        let dir = try Self.writeDir(torn)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let contents = try EtcdWALReader.read(dir: dir, afterIndex: 0)
        #expect(contents.entries.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(contents.hardState == HardState(term: 3, vote: 1, commit: 6))
        // Intact, the entry is there.
        let intact = try Self.writeDir(log())
        defer { try? FileManager.default.removeItem(atPath: intact) }
        #expect(try EtcdWALReader.read(dir: intact, afterIndex: 0).entries.count == 7)
        // The same damage in a segment that is not the last is an error.
        var early = log()
        early.append(early[1])
        early[1] = torn[1]
        let dir2 = try Self.writeDir(early)
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        #expect(throws: EtcdWALError.self) { try EtcdWALReader.read(dir: dir2, afterIndex: 0) }
    }

    @Test func missingSegmentsAndGapsAreRefused() throws {
        let segments = Self.sampleLog()
        let dir = try Self.writeDir(segments)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.moveItem(atPath: dir + "/0000000000000001-0000000000000005.wal",
                                         toPath: dir + "/0000000000000002-0000000000000005.wal")
        #expect(throws: EtcdWALError.self) { try EtcdWALReader.read(dir: dir, afterIndex: 0) }
        var w = SegmentWriter()
        _ = w.startSegment()
        w.entry(term: 1, index: 1, data: [1])
        w.entry(term: 1, index: 3, data: [3])
        let gap = try Self.writeDir([w.finished()])
        defer { try? FileManager.default.removeItem(atPath: gap) }
        #expect(throws: EtcdWALError.self) { try EtcdWALReader.read(dir: gap, afterIndex: 0) }
    }

    @Test func seededDamageNeverTraps() throws {
        let base = Self.sampleLog()
        var state: UInt64 = 99
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<300 {
            var segments = base
            for _ in 0..<(1 + next() % 4) {
                let s = Int(next() % 2)
                guard !segments[s].isEmpty else { continue }
                if next() % 5 == 0 {
                    segments[s].removeLast(Int(next() % UInt64(segments[s].count)))
                } else {
                    segments[s][Int(next() % UInt64(segments[s].count))] = UInt8(truncatingIfNeeded: next())
                }
            }
            let dir = try Self.writeDir(segments)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            do {
                _ = try EtcdWALReader.read(dir: dir, afterIndex: 2)
            } catch is EtcdWALError {
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }
}
