#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Raft
import Support

/// One logical WAL record. See README.md for the byte layout.
enum WALRecord: Equatable {
    /// Opaque caller bytes (member id, cluster id), first record of every segment.
    case metadata([UInt8])
    case entry(Entry)
    case hardState(HardState)
    case snapshot(WALSnapshotMarker)

    var typeCode: UInt8 {
        switch self {
        case .metadata: return 1
        case .entry: return 2
        case .hardState: return 3
        case .snapshot: return 4
        }
    }
}

/// Record framing: 16-byte header, body, zero padding to an 8-byte boundary.
///
///     0..<8   length field (UInt64 LE): bits 0..55 body length N, top
///             byte 0x80 | p where p (0...7) is the padding; never zero
///     8..<12  CRC-32C (UInt32 LE) of bytes 0..<8 followed by bytes 12..<16+N
///     12      record type (1 metadata, 2 entry, 3 hard state, 4 snapshot marker)
///     13..<16 zero
///     16..<16+N body, then p zero bytes
///
/// Frames start at 8-byte-aligned offsets, so the length field never
/// straddles a sector and cannot be torn. A zero length field marks the end of
/// the written part of a (preallocated, zero-filled) segment.
enum RecordCodec {
    static let headerBytes = 16
    static let sectorBytes = 512
    /// Largest accepted body; anything larger is treated as corruption.
    static let maxBodyBytes = 1 << 40

    /// Appends `r`'s frame to `out`, writing header and body in place: no
    /// temporary arrays (the Raft loop encodes every proposal through here,
    /// and growing small temporaries cost several mallocs per entry).
    static func encode(_ r: WALRecord, into out: inout [UInt8]) {
        let n: Int
        switch r {
        case .metadata(let m): n = m.count
        case .entry(let e): n = 17 + e.data.count
        case .hardState: n = 24
        case .snapshot: n = 16
        }
        let pad = (8 - n % 8) % 8
        let start = out.count
        appendLE(UInt64(n) | UInt64(0x80 | pad) << 56, to: &out)
        appendLE(UInt32(0), to: &out)  // the CRC, filled in below
        out.append(r.typeCode)
        out.append(0)
        out.append(0)
        out.append(0)
        switch r {
        case .metadata(let m): out.append(contentsOf: m)
        case .entry(let e):
            appendLE(e.term, to: &out)
            appendLE(e.index, to: &out)
            out.append(e.type.rawValue)
            out.append(contentsOf: e.data)
        case .hardState(let h):
            appendLE(h.term, to: &out)
            appendLE(h.vote, to: &out)
            appendLE(h.commit, to: &out)
        case .snapshot(let m):
            appendLE(m.index, to: &out)
            appendLE(m.term, to: &out)
        }
        assert(out.count == start + headerBytes + n)
        let crc = out.withUnsafeBytes { all in
            CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: all[start..<start + 8])),
                          UnsafeRawBufferPointer(rebasing: all[start + 12..<start + headerBytes + n]))
        }
        withUnsafeBytes(of: crc.littleEndian) { c in
            for i in 0..<4 { out[start + 8 + i] = c[i] }
        }
        for _ in 0..<pad { out.append(0) }
    }

    @inline(__always)
    private static func appendLE<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func encode(_ r: WALRecord) -> [UInt8] {
        var out: [UInt8] = []
        encode(r, into: &out)
        return out
    }

    enum Decoded {
        case record(WALRecord, next: Int)
        /// A zero length field: nothing was written from here on.
        case end
        /// A frame that fails. `torn` when it looks like an interrupted write
        /// (runs past the end of the file, or a whole sector of it is zero).
        case bad(reason: String, torn: Bool)
    }

    /// Body length and padding a length field announces; nil if it is zero or invalid.
    static func bodyAndPadding(lengthField: UInt64) -> (body: Int, padding: Int)? {
        let n = Int(lengthField & 0x00FF_FFFF_FFFF_FFFF)
        let top = UInt8(lengthField >> 56)
        let pad = Int(top & 0x7F)
        guard top & 0x80 != 0, pad < 8, n <= maxBodyBytes, (n + pad) % 8 == 0 else { return nil }
        return (n, pad)
    }

    /// The whole frame's size (header, body, padding) a valid length field announces.
    static func frameBytes(lengthField: UInt64) -> Int? {
        bodyAndPadding(lengthField: lengthField).map { headerBytes + $0.body + $0.padding }
    }

    /// Decodes the frame at `offset` (8-byte aligned) of a segment's bytes.
    ///
    /// `end` is where the file ends, as an index into `b` (default
    /// `b.count`). A caller reading through a window passes the file's end
    /// and must have loaded the whole frame, or up to `end` if the frame
    /// runs past it (only the length field of such a frame is read); `b`
    /// must start at a sector-aligned file offset for the torn-write check.
    static func decode(_ b: [UInt8], at offset: Int, end: Int? = nil) -> Decoded {
        let fileEnd = end ?? b.count
        if offset + 8 > fileEnd { return offset == fileEnd ? .end : .bad(reason: "truncated length field", torn: true) }
        let lenField = readLE64(b, offset)
        if lenField == 0 { return .end }
        guard let (n, pad) = bodyAndPadding(lengthField: lenField) else {
            return .bad(reason: "invalid length field 0x\(String(lenField, radix: 16))", torn: false)
        }
        let end = offset + headerBytes + n + pad
        if end > fileEnd {
            return .bad(reason: "record of \(n) bytes runs past the end of the file (\(fileEnd - offset) bytes left)", torn: true)
        }
        let stored = readLE32(b, offset + 8)
        let crc = b.withUnsafeBytes { p -> UInt32 in
            let c = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: p[offset..<offset + 8]))
            return CRC32C.update(c, UnsafeRawBufferPointer(rebasing: p[offset + 12..<offset + headerBytes + n]))
        }
        if crc != stored {
            return .bad(reason: "CRC mismatch (stored 0x\(String(stored, radix: 16)), computed 0x\(String(crc, radix: 16)))",
                        torn: hasZeroSector(b, from: offset, to: offset + headerBytes + n))
        }
        if b[offset + headerBytes + n..<end].contains(where: { $0 != 0 }) || b[offset + 13..<offset + 16].contains(where: { $0 != 0 }) {
            return .bad(reason: "nonzero padding", torn: false)
        }
        let type = b[offset + 12]
        var r = ByteReader(b, at: offset + headerBytes)
        let bodyEnd = offset + headerBytes + n
        do {
            let rec: WALRecord
            switch type {
            case 1: rec = .metadata(try r.raw(n))
            case 2:
                let term = try r.u64(), index = try r.u64(), t = try r.u8()
                guard let et = EntryType(rawValue: t) else {
                    return .bad(reason: "unknown entry type \(t)", torn: false)
                }
                rec = .entry(Entry(term: term, index: index, type: et, data: try r.raw(bodyEnd - r.pos)))
            case 3: rec = .hardState(HardState(term: try r.u64(), vote: try r.u64(), commit: try r.u64()))
            case 4: rec = .snapshot(WALSnapshotMarker(index: try r.u64(), term: try r.u64()))
            default: return .bad(reason: "unknown record type \(type)", torn: false)
            }
            guard r.pos == bodyEnd else { return .bad(reason: "record type \(type) has \(bodyEnd - r.pos) extra bytes", torn: false) }
            return .record(rec, next: end)
        } catch {
            return .bad(reason: "record type \(type) body too short (\(n) bytes)", torn: false)
        }
    }

    /// Offset of the first non-zero byte at or after `from`, nil if none.
    /// Compares whole pages with `memcmp` (segments are mostly zeros, 64 MiB).
    static func firstNonZero(_ b: [UInt8], from: Int) -> Int? {
        let page = 4096
        return b.withUnsafeBytes { p -> Int? in
            zeroPage.withUnsafeBytes { z -> Int? in
                var i = from
                while i < b.count {
                    let n = min(page, b.count - i)
                    if memcmp(p.baseAddress! + i, z.baseAddress!, n) != 0 {
                        return (i..<i + n).first { p[$0] != 0 }
                    }
                    i += n
                }
                return nil
            }
        }
    }

    private static let zeroPage = [UInt8](repeating: 0, count: 4096)

    /// True if some sector-aligned chunk of `[from, to)` is all zero: the
    /// signature of a write that was interrupted before that sector reached disk.
    static func hasZeroSector(_ b: [UInt8], from: Int, to: Int) -> Bool {
        var start = from
        while start < to {
            let chunkEnd = min(to, (start / sectorBytes + 1) * sectorBytes)
            if b[start..<chunkEnd].allSatisfy({ $0 == 0 }) { return true }
            start = chunkEnd
        }
        return false
    }
}
