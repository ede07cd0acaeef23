/// Little-endian encoding helpers shared by the WAL record and snapshot codecs.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
}

/// Reads little-endian values; every read is bounds-checked and throws
/// `ByteReader.Short` instead of trapping on truncated input.
struct ByteReader {
    struct Short: Error {}
    let bytes: [UInt8]
    var pos: Int

    init(_ bytes: [UInt8], at pos: Int = 0) {
        self.bytes = bytes
        self.pos = pos
    }

    var remaining: Int { bytes.count - pos }

    mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw Short() }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw Short() }
        defer { pos += 4 }
        return readLE32(bytes, pos)
    }

    mutating func u64() throws -> UInt64 {
        guard remaining >= 8 else { throw Short() }
        defer { pos += 8 }
        return readLE64(bytes, pos)
    }

    mutating func raw(_ n: Int) throws -> [UInt8] {
        guard n >= 0, remaining >= n else { throw Short() }
        defer { pos += n }
        return Array(bytes[pos..<pos + n])
    }

    mutating func rest() -> [UInt8] {
        defer { pos = bytes.count }
        return Array(bytes[pos...])
    }
}

func readLE32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}

func readLE64(_ b: [UInt8], _ i: Int) -> UInt64 {
    UInt64(readLE32(b, i)) | UInt64(readLE32(b, i + 4)) << 32
}
