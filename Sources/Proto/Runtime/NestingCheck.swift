/// A pre-pass over the wire bytes that bounds message nesting before protobuf-c
/// unpacks (its unpack recurses once per level, so a 1 MiB Txn nested a few
/// hundred thousand levels deep would exhaust the stack). Only run for messages
/// that have a `NestingTable` row; others have a depth fixed by their schema.
extension NestingTable {
    static func check(_ bytes: UnsafeRawBufferPointer, node: Int, depth: Int) throws(ProtoDecodeError) {
        guard depth <= ProtoLimits.maxNestingDepth else { throw .nestingTooDeep }
        let children = Self.children[node]
        var offset = 0
        while offset < bytes.count {
            let key = try varint(bytes, &offset)
            switch key & 7 {
            case 0:
                _ = try varint(bytes, &offset)
            case 1:
                offset += 8
            case 5:
                offset += 4
            case 2:
                let length = try varint(bytes, &offset)
                guard length <= UInt64(bytes.count - offset) else { throw .malformed }
                let end = offset + Int(length)
                if let field = UInt32(exactly: key >> 3), let child = children[field] {
                    try check(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), node: child, depth: depth + 1)
                }
                offset = end
            default:
                // Groups (3, 4) are not used by proto3; protobuf-c rejects them too.
                throw .malformed
            }
        }
        guard offset == bytes.count else { throw .malformed }
    }

    /// Reads a base-128 varint of at most 10 bytes.
    private static func varint(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) throws(ProtoDecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 70 {
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw .malformed
    }
}
