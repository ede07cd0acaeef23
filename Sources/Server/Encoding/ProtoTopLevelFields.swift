/// Walks the top-level fields of protobuf wire bytes without decoding any
/// message: for reading one field of an entry that may not decode as a
/// whole (the request ID of an undecodable Raft entry) or that is not ours
/// to decode (an etcd WAL's requests). Nothing is trusted: lengths are
/// checked against the bytes left, varints stop at 10 bytes.
enum ProtoTopLevelFields {
    /// Calls `body(field number, value)` for each top-level field in order
    /// (`value` is the varint for wire type 0, nil for the others) until
    /// `body` returns false. Returns false when the bytes stop being well
    /// formed before their end (a varint that does not end, a length or a
    /// fixed field past the end, a group or an unknown wire type).
    @discardableResult
    static func scan(_ bytes: [UInt8], _ body: (_ field: UInt64, _ value: UInt64?) -> Bool) -> Bool {
        walk(bytes) { field, _, value, _ in body(field, value) }
    }

    /// As `scan`, with each field's wire type and, for a length-delimited
    /// field (wire type 2), the range of its payload in `bytes`.
    @discardableResult
    static func walk(_ bytes: [UInt8],
                     _ body: (_ field: UInt64, _ wireType: UInt64, _ value: UInt64?, _ payload: Range<Int>?) -> Bool) -> Bool {
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
            var value: UInt64?
            var payload: Range<Int>?
            switch tag & 7 {
            case 0:
                guard let v = varint() else { return false }
                value = v
            case 1: i += 8
            case 2:
                guard let n = varint(), n <= UInt64(bytes.count - i) else { return false }
                payload = i..<i + Int(n)
                i += Int(n)
            case 5: i += 4
            default: return false
            }
            if i > bytes.count { return false }
            if !body(tag >> 3, tag & 7, value, payload) { return true }
        }
        return true
    }
}
