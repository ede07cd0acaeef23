/// Minimal little helpers for the compact binary codecs of `Message` and
/// `ConfChange`: unsigned LEB128 varints and length-prefixed byte strings.
struct ByteWriter {
    var buffer: [UInt8] = []

    init(capacity: Int = 64) { buffer.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { buffer.append(v) }

    mutating func uvarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    mutating func bytes(_ b: [UInt8]) {
        uvarint(UInt64(b.count))
        buffer.append(contentsOf: b)
    }
}

struct ByteReader {
    let data: [UInt8]
    var offset = 0

    init(_ data: [UInt8]) { self.data = data }

    var atEnd: Bool { offset == data.count }

    mutating func u8() throws -> UInt8 {
        guard offset < data.count else { throw RaftError.malformed("truncated") }
        defer { offset += 1 }
        return data[offset]
    }

    mutating func uvarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 64 else { throw RaftError.malformed("varint overflow") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func count() throws -> Int {
        let n = try uvarint()
        guard n <= UInt64(data.count - offset) else { throw RaftError.malformed("length past end") }
        return Int(n)
    }

    mutating func bytes() throws -> [UInt8] {
        let n = try count()
        defer { offset += n }
        return Array(data[offset..<offset + n])
    }
}
