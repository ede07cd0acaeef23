import CLMDB

/// Small named buckets beside the keys (etcd's `auth`, `authUsers`,
/// `authRoles`). A record lives in the `meta` db under
/// `<bucket>/<key>`, written in the same LMDB txn as the entry's index, so
/// snapshots, defrag, restore and store transfer carry it; HashKV does not
/// see it (etcd hashes only keys there), Maintenance.Hash does (etcd hashes
/// every bucket). A meta key longer than LMDB's limit is shortened as index
/// keys are (`IndexKey`): the value must name its record (authpb.User and
/// authpb.Role carry their name), since such a key does not.
extension MVCCStore {
    /// Every record of `bucket`, in stored-key order.
    public func bucketRecords(_ bucket: String) throws -> [BucketRecord] {
        try withReadTxn { rd in
            let prefix = BucketKey.prefix(bucket)
            let cursor = try Cursor(rd.txn, dbs.meta)
            defer { cursor.close() }
            var out: [BucketRecord] = []
            var k = MDB_val(), d = MDB_val()
            var ok = try prefix.withUnsafeBytes { p in
                k = MDB_val(mv_size: p.count, mv_data: UnsafeMutableRawPointer(mutating: p.baseAddress))
                return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
            }
            while ok {
                let key = LMDB.bytes(k)
                guard key.starts(with: prefix) else { break }
                out.append(BucketRecord(bucket: bucket, key: Array(key[prefix.count...]), value: Array(LMDB.bytes(d))))
                ok = try cursor.op(MDB_NEXT, key: &k, value: &d)
            }
            return out
        }
    }
}

enum BucketKey {
    static func prefix(_ bucket: String) -> [UInt8] { Array(bucket.utf8) + [UInt8(ascii: "/")] }
}

extension KVWriter {
    func putBucketRecord(_ r: BucketRecord) throws {
        try IndexKey.with(BucketKey.prefix(r.bucket) + r.key) { k in
            if let value = r.value {
                try value.withUnsafeBytes { v in try LMDB.put(txn, dbs.meta, k, v) }
            } else {
                _ = try LMDB.del(txn, dbs.meta, k, nil)
            }
        }
    }
}
