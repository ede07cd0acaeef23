/// The 8-byte big-endian form of a `UInt64`, used wherever the server puts
/// an ID or counter into bytes: WAL metadata, ReadIndex contexts, conf
/// change contexts, member/cluster ID hashing.
extension UInt64 {
    var bigEndianBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * UInt64($0))) }
    }

    /// Reads the first 8 bytes (fewer if shorter) as a big-endian number.
    init(bigEndianBytes bytes: some Collection<UInt8>) {
        self = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
