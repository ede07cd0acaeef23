/// Which top-level fields an encoded `InternalRaftRequest` sets, read from
/// the protobuf tags without decoding the messages: lets the apply path pick
/// out the rare entries it must treat specially (alarms; writes while a
/// NOSPACE alarm is active) at almost no cost for the rest.
enum RaftRequestPeek {
    /// Field numbers from Protos/swiftetcd/internal.proto.
    static let range = 3, put = 4, deleteRange = 5, txn = 6, compaction = 7, leaseGrant = 8, leaseRevoke = 9, alarm = 10
    /// What etcd's applierV3Corrupt refuses while a CORRUPT alarm is active.
    static let refusedWhenCorrupt: Set<Int> = [range, put, deleteRange, txn, compaction, leaseGrant, leaseRevoke]

    /// The top-level field numbers present (nil if the bytes are not a
    /// well-formed message).
    static func fields(_ bytes: [UInt8]) -> Set<Int>? {
        var out = Set<Int>()
        return scan(bytes) { field, _ in out.insert(field) } ? out : nil
    }

    /// The proposer's request id (field 1) of an entry that may not decode
    /// as a whole (nil if absent or the top level is not well formed).
    static func requestID(_ bytes: [UInt8]) -> UInt64? {
        var id: UInt64?
        return scan(bytes) { field, varint in if field == 1, let varint { id = varint } } ? id : nil
    }

    /// Walks the top-level fields: `visit(field number, value if a varint)`.
    /// False if the bytes are not a well-formed message.
    private static func scan(_ bytes: [UInt8], _ visit: (Int, UInt64?) -> Void) -> Bool {
        var i = 0
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count && shift < 64 {
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
            return nil
        }
        while i < bytes.count {
            guard let tag = varint() else { return false }
            let field = Int(tag >> 3)
            switch tag & 7 {
            case 0:
                guard let value = varint() else { return false }
                visit(field, value)
            case 1: i += 8; visit(field, nil)
            case 2:
                guard let n = varint(), n <= UInt64(bytes.count - i) else { return false }
                i += Int(n)
                visit(field, nil)
            case 5: i += 4; visit(field, nil)
            default: return false
            }
            if i > bytes.count { return false }
        }
        return true
    }
}
