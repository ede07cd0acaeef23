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
            guard let tag = varint() else { return nil }
            out.insert(Int(tag >> 3))
            switch tag & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: i += 8
            case 2:
                guard let n = varint(), n <= UInt64(bytes.count - i) else { return nil }
                i += Int(n)
            case 5: i += 4
            default: return nil
            }
            if i > bytes.count { return nil }
        }
        return out
    }
}
