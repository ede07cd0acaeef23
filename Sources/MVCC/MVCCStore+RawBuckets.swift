import CLMDB

/// etcd buckets a swift-etcd store keeps as etcd wrote them (the auth
/// store: `auth`, `authUsers`, `authRoles`), so users and roles survive a
/// trip from etcd through swift-etcd and back byte for byte. They live in
/// the `meta` db under `bucket/<name>/<key>` (bucket names hold no `/`),
/// in the same txns as everything else, and travel with every store copy.
/// LMDB's key limit leaves `maxRawKeyBytes` for the key.
extension MVCCStore {
    /// Every entry of raw bucket `name`, in key order.
    public func rawBucket(_ name: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        try withReadTxn { rd in
            var out: [(key: [UInt8], value: [UInt8])] = []
            try RawBucketKey.forEach(rd.txn, dbs.meta, name) { k, v in out.append((Array(k), Array(v))) }
            return out
        }
    }
}

enum RawBucketKey {
    static let prefix = Array("bucket/".utf8)
    static let maxKeyBytes = 511 - 7 - 10 - 1

    static func bucketPrefix(_ name: [UInt8]) -> [UInt8] { prefix + name + [UInt8(ascii: "/")] }

    static func key(_ name: [UInt8], _ key: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard key.count <= maxKeyBytes else {
            throw MVCCError(.invalidInput, "mvcc: a key of \(key.count) bytes in bucket \(String(decoding: name, as: UTF8.self)) is longer than the \(maxKeyBytes) bytes swift-etcd keeps")
        }
        return bucketPrefix(name) + Array(key)
    }

    /// Calls `body(key without the prefix, value)` for each entry of bucket `name`.
    static func forEach(_ txn: OpaquePointer, _ meta: MDB_dbi, _ name: [UInt8],
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let p = bucketPrefix(name)
        let cursor = try Cursor(txn, meta)
        defer { cursor.close() }
        var k = MDB_val(), d = MDB_val()
        var ok = try p.withUnsafeBytes { pb in
            k = MDB_val(mv_size: pb.count, mv_data: UnsafeMutableRawPointer(mutating: pb.baseAddress))
            return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
        }
        while ok {
            let key = LMDB.bytes(k)
            guard key.starts(with: p) else { return }
            try body(UnsafeRawBufferPointer(rebasing: key[p.count...]), LMDB.bytes(d))
            ok = try cursor.op(MDB_NEXT, key: &k, value: &d)
        }
    }
}

extension KVWriter {
    /// Sets an entry of raw bucket `bucket` (no revision change).
    func putRaw(bucket: [UInt8], key: [UInt8], value: [UInt8]) throws {
        let k = try key.withUnsafeBytes { try RawBucketKey.key(bucket, $0) }
        try k.withUnsafeBytes { kb in try value.withUnsafeBytes { try LMDB.put(txn, dbs.meta, kb, $0) } }
    }

    /// Removes an entry of raw bucket `bucket`; false when it was absent.
    @discardableResult
    func deleteRaw(bucket: [UInt8], key: [UInt8]) throws -> Bool {
        let k = try key.withUnsafeBytes { try RawBucketKey.key(bucket, $0) }
        return try k.withUnsafeBytes { try LMDB.del(txn, dbs.meta, $0, nil) }
    }
}
