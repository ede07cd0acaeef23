import Support

/// The few protobuf messages of etcd's backend, by hand: `mvccpb.KeyValue`,
/// `leasepb.Lease`, `etcdserverpb.AlarmMember`. Encoding is gogoproto's
/// (fields in number order, zero values left out), so files match etcd's
/// byte for byte; decoding checks every length and varint and skips
/// unknown fields, as protobuf does.
enum EtcdProto {
    /// What a malformed message gets.
    struct Malformed: Error, CustomStringConvertible {
        let what: String
        var description: String { what }
    }

    // MARK: mvccpb.KeyValue (1 key, 2 create_revision, 3 mod_revision, 4 version, 5 value, 6 lease)

    /// Bytes `encodeKeyValue` writes for these fields (without building them).
    @inline(__always)
    static func keyValueSize(keyBytes: Int, valueBytes: Int, create: Int64, mod: Int64, version: Int64, lease: Int64) -> Int {
        var n = 0
        if keyBytes > 0 { n += 1 + varintSize(UInt64(keyBytes)) + keyBytes }
        if create != 0 { n += 1 + varintSize(UInt64(bitPattern: create)) }
        if mod != 0 { n += 1 + varintSize(UInt64(bitPattern: mod)) }
        if version != 0 { n += 1 + varintSize(UInt64(bitPattern: version)) }
        if valueBytes > 0 { n += 1 + varintSize(UInt64(valueBytes)) + valueBytes }
        if lease != 0 { n += 1 + varintSize(UInt64(bitPattern: lease)) }
        return n
    }

    static func encodeKeyValue(_ out: inout [UInt8], key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                               create: Int64, mod: Int64, version: Int64, lease: Int64) {
        if key.count > 0 { bytesField(&out, 1, key) }
        varintField(&out, 2, create)
        varintField(&out, 3, mod)
        varintField(&out, 4, version)
        if value.count > 0 { bytesField(&out, 5, value) }
        varintField(&out, 6, lease)
    }

    static func encode(_ kv: KeyValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(kv.key.count + kv.value.count + 40)
        kv.key.withUnsafeBytes { k in
            kv.value.withUnsafeBytes { v in
                encodeKeyValue(&out, key: k, value: v, create: kv.createRevision, mod: kv.modRevision,
                               version: kv.version, lease: kv.lease)
            }
        }
        return out
    }

    static func decodeKeyValue(_ b: UnsafeRawBufferPointer) throws -> KeyValue {
        var kv = KeyValue(key: [])
        var r = Reader(b)
        while let (field, wire) = try r.tag() {
            switch (field, wire) {
            case (1, 2): kv.key = Array(try r.bytes())
            case (2, 0): kv.createRevision = Int64(bitPattern: try r.varint())
            case (3, 0): kv.modRevision = Int64(bitPattern: try r.varint())
            case (4, 0): kv.version = Int64(bitPattern: try r.varint())
            case (5, 2): kv.value = Array(try r.bytes())
            case (6, 0): kv.lease = Int64(bitPattern: try r.varint())
            default: try r.skip(wire)
            }
        }
        return kv
    }

    // MARK: authpb.User / authpb.Role (1 name, ...)

    /// The `name` (field 1) of an `authpb.User` or `authpb.Role`: the key
    /// etcd files it under in `authUsers` / `authRoles`.
    static func decodeAuthName(_ b: UnsafeRawBufferPointer) throws -> [UInt8] {
        var r = Reader(b)
        var name: [UInt8] = []
        while let (field, wire) = try r.tag() {
            if field == 1 && wire == 2 { name = Array(try r.bytes()) } else { try r.skip(wire) }
        }
        return name
    }

    // MARK: leasepb.Lease (1 ID, 2 TTL, 3 RemainingTTL)

    static func encode(_ lease: StoredLease) -> [UInt8] {
        var out: [UInt8] = []
        varintField(&out, 1, lease.id)
        varintField(&out, 2, lease.ttlSeconds)
        varintField(&out, 3, lease.remainingTTLSeconds)
        return out
    }

    static func decodeLease(_ b: UnsafeRawBufferPointer) throws -> StoredLease {
        var lease = StoredLease(id: 0, ttlSeconds: 0)
        var r = Reader(b)
        while let (field, wire) = try r.tag() {
            switch (field, wire) {
            case (1, 0): lease.id = Int64(bitPattern: try r.varint())
            case (2, 0): lease.ttlSeconds = Int64(bitPattern: try r.varint())
            case (3, 0): lease.remainingTTLSeconds = Int64(bitPattern: try r.varint())
            default: try r.skip(wire)
            }
        }
        return lease
    }

    // MARK: etcdserverpb.AlarmMember (1 memberID, 2 alarm)

    public static func encodeAlarm(memberID: UInt64, type: Int32) -> [UInt8] {
        var out: [UInt8] = []
        varintField(&out, 1, Int64(bitPattern: memberID))
        varintField(&out, 2, Int64(type))
        return out
    }

    static func decodeAlarm(_ b: UnsafeRawBufferPointer) throws -> (memberID: UInt64, type: Int32) {
        var member: UInt64 = 0
        var type: Int32 = 0
        var r = Reader(b)
        while let (field, wire) = try r.tag() {
            switch (field, wire) {
            case (1, 0): member = try r.varint()
            case (2, 0): type = Int32(truncatingIfNeeded: try r.varint())
            default: try r.skip(wire)
            }
        }
        return (member, type)
    }

    // MARK: wire format

    @inline(__always)
    static func varintSize(_ v: UInt64) -> Int { ProtoVarint.size(v) }

    @inline(__always)
    static func varint(_ out: inout [UInt8], _ v: UInt64) { ProtoVarint.append(v, to: &out) }

    @inline(__always)
    static func varintField(_ out: inout [UInt8], _ field: UInt64, _ v: Int64) {
        guard v != 0 else { return }
        varint(&out, field << 3)
        varint(&out, UInt64(bitPattern: v))
    }

    @inline(__always)
    static func bytesField(_ out: inout [UInt8], _ field: UInt64, _ b: UnsafeRawBufferPointer) {
        varint(&out, field << 3 | 2)
        varint(&out, UInt64(b.count))
        out.append(contentsOf: b)
    }

    /// Walks a message's fields; every read is bounds checked.
    struct Reader {
        let b: UnsafeRawBufferPointer
        var at = 0

        init(_ b: UnsafeRawBufferPointer) { self.b = b }

        mutating func tag() throws -> (UInt64, UInt64)? {
            if at >= b.count { return nil }
            let t = try varint()
            if t >> 3 == 0 { throw Malformed(what: "field number 0") }
            return (t >> 3, t & 7)
        }

        mutating func varint() throws -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < b.count else { throw Malformed(what: "truncated varint") }
                let byte = b[at]
                at += 1
                if shift == 63 && byte > 1 { throw Malformed(what: "varint overflows 64 bits") }
                v |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return v }
                shift += 7
                if shift > 63 { throw Malformed(what: "varint longer than 10 bytes") }
            }
        }

        mutating func bytes() throws -> UnsafeRawBufferPointer {
            let n = try varint()
            guard n <= UInt64(b.count - at) else { throw Malformed(what: "length \(n) past the end of the message") }
            defer { at += Int(n) }
            return UnsafeRawBufferPointer(rebasing: b[at..<(at + Int(n))])
        }

        mutating func skip(_ wire: UInt64) throws {
            switch wire {
            case 0: _ = try varint()
            case 1: try advance(8)
            case 2: _ = try bytes()
            case 5: try advance(4)
            default: throw Malformed(what: "unsupported wire type \(wire)")
            }
        }

        private mutating func advance(_ n: Int) throws {
            guard b.count - at >= n else { throw Malformed(what: "truncated fixed-size field") }
            at += n
        }
    }
}
