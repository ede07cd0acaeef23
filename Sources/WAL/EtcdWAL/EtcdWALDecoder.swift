import Raft
import Support

/// etcd's WAL (3.4/3.5 `member/wal/*.wal`), decoded without trusting it.
///
/// Segments are named `%016x-%016x.wal` (sequence, first index) and are
/// preallocated (64 MB of zeros). Each record is framed as an 8-byte
/// little-endian length (low 56 bits: record bytes; if the top bit is set,
/// bits 56-58 count zero padding after it, which keeps frames 8-byte
/// aligned) and a `walpb.Record` protobuf: `type` (1 metadata, 2 entry,
/// 3 hard state, 4 CRC, 5 snapshot), `crc`, `data`. The CRC-32C chains:
/// each record's is the running CRC over every `data` before it and its
/// own; a type-4 record opens each segment with the running value so far.
/// A zero length ends a segment. The log is the entries in order, where a
/// later entry with an index already seen replaces it and everything after
/// (a new leader overwrote them).
///
/// `EtcdWALDecoder` is the pure part: it takes each segment's bytes as
/// pieces arrive (`EtcdWALReader` does the file I/O).
public struct EtcdWALDecoder {
    public struct Contents: Equatable, Sendable {
        /// The segments' metadata record (`etcdserverpb.Metadata`: node and cluster ID).
        public var metadata: [UInt8]?
        public var hardState = HardState()
        /// The log after `afterIndex`, contiguous from `afterIndex + 1`.
        public var entries: [EtcdWALEntry] = []
    }

    public let afterIndex: UInt64
    public private(set) var contents = Contents()
    private var crc: UInt32 = 0

    public init(afterIndex: UInt64) { self.afterIndex = afterIndex }

    static let metadataType: UInt64 = 1, entryType: UInt64 = 2, stateType: UInt64 = 3, crcType: UInt64 = 4, snapshotType: UInt64 = 5
    /// etcd's maxWALEntrySizeLimit.
    public static let maxRecordBytes = 10 << 20

    /// Decodes one record's protobuf (`body`, without frame or padding).
    /// `at` names the record in errors.
    mutating func record(_ body: [UInt8], at: (String, Int64)) throws {
        func bad(_ why: String) -> EtcdWALError { EtcdWALError(file: at.0, offset: at.1, reason: why) }
        var type: UInt64 = 0, recordCRC: UInt32 = 0
        var data: [UInt8] = []
        do {
            var r = ProtoFields(body)
            while let field = try r.next() {
                switch field {
                case .varint(1, let v): type = v
                case .varint(2, let v): recordCRC = UInt32(truncatingIfNeeded: v)
                case .bytes(3, let b): data = b
                default: break
                }
            }
        } catch { throw bad("walpb.Record: \(error)") }
        if type == Self.crcType {
            if crc != 0 && recordCRC != crc { throw bad("CRC mismatch: the segment opens with 0x\(String(recordCRC, radix: 16)), the log so far has 0x\(String(crc, radix: 16))") }
            crc = recordCRC
            return
        }
        crc = data.withUnsafeBytes { CRC32C.update(crc, $0) }
        if recordCRC != crc { throw bad("CRC mismatch: record says 0x\(String(recordCRC, radix: 16)), data gives 0x\(String(crc, radix: 16))") }
        do {
            switch type {
            case Self.metadataType:
                if let m = contents.metadata, m != data { throw bad("metadata differs between records") }
                contents.metadata = data
            case Self.entryType:
                try entry(try EtcdWALEntry(decoding: data), bad)
            case Self.stateType:
                var r = ProtoFields(data)
                var hs = HardState()
                while let field = try r.next() {
                    switch field {
                    case .varint(1, let v): hs.term = v
                    case .varint(2, let v): hs.vote = v
                    case .varint(3, let v): hs.commit = v
                    default: break
                    }
                }
                contents.hardState = hs
            case Self.snapshotType:
                break
            default:
                throw bad("unexpected record type \(type)")
            }
        } catch let e as ProtoFields.Malformed {
            throw bad("record type \(type): \(e)")
        }
    }

    private mutating func entry(_ e: EtcdWALEntry, _ bad: (String) -> EtcdWALError) throws {
        guard e.index > afterIndex else { return }
        let position = e.index - afterIndex - 1
        guard position <= UInt64(contents.entries.count) else {
            throw bad("entry \(e.index) leaves a gap after entry \(afterIndex + UInt64(contents.entries.count))")
        }
        contents.entries.removeSubrange(Int(position)...)
        contents.entries.append(e)
    }

    /// Splits a frame's length field into record and padding bytes.
    static func frame(_ lengthField: UInt64) -> (record: Int, padding: Int)? {
        let record = lengthField & ~(UInt64(0xff) << 56)
        let padding = lengthField >> 63 == 1 ? Int((lengthField >> 56) & 0x7) : 0
        guard record <= UInt64(maxRecordBytes) else { return nil }
        return (Int(record), padding)
    }
}

/// A `raftpb.Entry` from an etcd WAL. `type` is raftpb.EntryType: 0 normal
/// (an `InternalRaftRequest`), 1 conf change, 2 conf change v2.
public struct EtcdWALEntry: Equatable, Sendable {
    public var term: UInt64 = 0
    public var index: UInt64 = 0
    public var type: UInt64 = 0
    public var data: [UInt8] = []

    public init(term: UInt64, index: UInt64, type: UInt64, data: [UInt8]) {
        self.term = term
        self.index = index
        self.type = type
        self.data = data
    }

    init(decoding bytes: [UInt8]) throws {
        var r = ProtoFields(bytes)
        while let field = try r.next() {
            switch field {
            case .varint(1, let v): type = v
            case .varint(2, let v): term = v
            case .varint(3, let v): index = v
            case .bytes(4, let b): data = b
            default: break
            }
        }
    }
}

/// A WAL that cannot be read: which file, where, what is wrong.
public struct EtcdWALError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let offset: Int64
    public let reason: String
    public var description: String { "\(file): invalid etcd WAL at offset \(offset): \(reason)" }
}

/// Protobuf fields of a message, each length and varint checked.
struct ProtoFields {
    enum Field {
        case varint(UInt64, UInt64)
        case bytes(UInt64, [UInt8])
        case other
    }

    struct Malformed: Error, CustomStringConvertible { let description: String }

    private let b: [UInt8]
    private var at = 0

    init(_ b: [UInt8]) { self.b = b }

    mutating func next() throws -> Field? {
        if at >= b.count { return nil }
        let tag = try varint()
        let (number, wire) = (tag >> 3, tag & 7)
        switch wire {
        case 0: return .varint(number, try varint())
        case 2:
            let n = try varint()
            guard n <= UInt64(b.count - at) else { throw Malformed(description: "length \(n) past the end") }
            defer { at += Int(n) }
            return .bytes(number, Array(b[at..<(at + Int(n))]))
        case 1, 5:
            let n = wire == 1 ? 8 : 4
            guard b.count - at >= n else { throw Malformed(description: "truncated fixed field") }
            at += n
            return .other
        default: throw Malformed(description: "wire type \(wire)")
        }
    }

    private mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: UInt64(0), through: 63, by: 7) {
            guard at < b.count else { throw Malformed(description: "truncated varint") }
            let byte = b[at]
            at += 1
            v |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return v }
        }
        throw Malformed(description: "varint longer than 10 bytes")
    }
}
