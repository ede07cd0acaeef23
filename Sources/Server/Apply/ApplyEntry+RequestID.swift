extension ApplyEntry {
    /// The proposer's request ID (field 1 of `InternalRaftRequest`) read from
    /// the top-level fields of an entry that does not decode as a whole
    /// (e.g. nested deeper than the decoder takes); nil if it has none or
    /// its top level is not well formed.
    static func requestID(_ bytes: [UInt8]) -> UInt64? {
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
        var id: UInt64?
        while i < bytes.count {
            guard let tag = varint() else { return nil }
            switch tag & 7 {
            case 0:
                guard let value = varint() else { return nil }
                if tag >> 3 == 1 { id = value }
            case 1: i += 8
            case 2:
                guard let n = varint(), n <= UInt64(bytes.count - i) else { return nil }
                i += Int(n)
            case 5: i += 4
            default: return nil
            }
            if i > bytes.count { return nil }
        }
        return id
    }
}
