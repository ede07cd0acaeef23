import CLMDB

/// Small named buckets beside the keys (etcd's `auth`, `authUsers`,
/// `authRoles`). A record lives in the `meta` db under
/// `bucket/<bucket>/<key>` (the raw buckets an etcd snapshot import writes
/// and the etcd-format export reads: `RawBucketKey`), written in the same
/// LMDB txn as the entry's index, so
/// snapshots, defrag, restore and store transfer carry it; HashKV does not
/// see it (etcd hashes only keys there), Maintenance.Hash does (etcd hashes
/// every bucket). A meta key longer than LMDB's limit is shortened
/// (`RawBucketKey`): the value must name its record (authpb.User and
/// authpb.Role carry their name), since such a key does not.
extension MVCCStore {
    /// Every record of `bucket`, in stored-key order.
    public func bucketRecords(_ bucket: String) throws -> [BucketRecord] {
        try withReadTxn { rd in
            var out: [BucketRecord] = []
            try RawBucketKey.forEach(rd.txn, dbs.meta, Array(bucket.utf8)) { key, value in
                out.append(BucketRecord(bucket: bucket, key: Array(key), value: Array(value)))
            }
            return out
        }
    }
}

extension KVWriter {
    func putBucketRecord(_ r: BucketRecord) throws {
        try r.key.withUnsafeBytes { key in
            try RawBucketKey.with(Array(r.bucket.utf8), key) { k in
                if let value = r.value {
                    try value.withUnsafeBytes { v in try LMDB.put(txn, dbs.meta, k, v) }
                } else {
                    _ = try LMDB.del(txn, dbs.meta, k, nil)
                }
            }
        }
    }
}
