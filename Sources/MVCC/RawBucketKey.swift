import CLMDB

/// etcd buckets a swift-etcd store keeps as etcd wrote them (the auth
/// store: `auth`, `authUsers`, `authRoles`), so users and roles survive a
/// trip from etcd through swift-etcd and back byte for byte. They live in
/// the `meta` db under `bucket/<name>/<key>` (bucket names hold no `/`),
/// in the same txns as everything else, and travel with every store copy.
///
/// bbolt takes keys up to 32 KiB, LMDB 511 bytes: a meta key longer than
/// `IndexKey.maxInlineBytes` is shortened as index keys are (`IndexKey`).
/// Such a key no longer names its entry; the value does (`authpb.User` and
/// `authpb.Role` carry their name, the key etcd files them under), and
/// `entries` gives the keys back as etcd has them.
enum RawBucketKey {
    static let prefix = Array("bucket/".utf8)

    static func bucketPrefix(_ name: [UInt8]) -> [UInt8] { prefix + name + [UInt8(ascii: "/")] }

    /// Calls `body` with the meta key of `key` in bucket `name` (shortened when long).
    static func with<R>(_ name: [UInt8], _ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try IndexKey.with(bucketPrefix(name) + Array(key), body)
    }

    /// Calls `body(key without the prefix, value)` for each entry of bucket
    /// `name`, in stored order; a shortened key comes as stored.
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

    /// Every entry of bucket `name` under the key etcd files it under, in
    /// etcd's (byte) order: a shortened key is replaced by the name its
    /// value carries, which must agree with the stored part of the key.
    static func entries(_ txn: OpaquePointer, _ meta: MDB_dbi, _ name: [UInt8]) throws -> [([UInt8], [UInt8])] {
        let p = bucketPrefix(name)
        var out: [([UInt8], [UInt8])] = []
        var shortened = false
        try forEach(txn, meta, name) { k, v in
            guard p.count + k.count > IndexKey.maxInlineBytes else {
                out.append((Array(k), Array(v)))
                return
            }
            let full: [UInt8]
            do { full = try EtcdProto.decodeAuthName(v) } catch {
                throw MVCCError(.internal, "mvcc: bucket \(String(decoding: name, as: UTF8.self)): a long-keyed record does not decode: \(error)")
            }
            let inline = IndexKey.maxInlineBytes - p.count
            guard full.count > inline, full.prefix(inline).elementsEqual(k.prefix(inline)) else {
                throw MVCCError(.internal, "mvcc: bucket \(String(decoding: name, as: UTF8.self)): a long-keyed record names \(full.count) bytes that do not match its key")
            }
            out.append((full, Array(v)))
            shortened = true
        }
        // Shortened keys sharing their stored part sort by hash, not by name.
        if shortened { out.sort { $0.0.lexicographicallyPrecedes($1.0) } }
        return out
    }
}
