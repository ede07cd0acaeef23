/// etcd's Put / DeleteRange appliers (etcdserver/apply.go) on a `KVWriter`.
///
/// Every check runs before the first write, so a request that fails leaves
/// no change behind.
extension KVWriter {
    /// - Parameter inTxn: inside a Txn the lease was already checked
    ///   (checkRequestPut), as etcd's Put with a non-nil txn.
    mutating func applyPut(_ p: PutRequest, inTxn: Bool, leaseExists: (Int64) -> Bool) throws -> PutResponse {
        try Self.checkStorable(p.key)
        if !inTxn && p.lease != 0 && !leaseExists(p.lease) { throw MVCCError.leaseNotFound }
        var prev: KeyValue?
        if p.ignoreValue || p.ignoreLease || p.prevKV {
            prev = try reader.rangeKeys(.single(p.key), atRev: readRev, latest: true, limit: 0, countOnly: false).kvs.first
        }
        if (p.ignoreValue || p.ignoreLease) && prev == nil { throw MVCCError.keyNotFound }
        let value = p.ignoreValue ? prev!.value : p.value
        let lease = p.ignoreLease ? prev!.lease : p.lease
        try put(key: p.key, value: value, lease: lease)
        return PutResponse(revision: beginRev + 1, prevKV: p.prevKV ? prev : nil)
    }

    mutating func applyDelete(_ d: DeleteRangeRequest) throws -> DeleteRangeResponse {
        if d.key.isEmpty { throw MVCCError.emptyKey }
        let bounds = KeyBounds(key: d.key, rangeEnd: d.rangeEnd)
        var prevKVs: [KeyValue] = []
        if d.prevKV {
            prevKVs = try reader.rangeKeys(bounds, atRev: readRev, latest: true, limit: 0, countOnly: false).kvs
        }
        let deleted = try deleteRange(bounds)
        return DeleteRangeResponse(revision: readRev, deleted: deleted, prevKVs: prevKVs)
    }

    /// etcd refuses empty keys; any other length fits (`IndexKey`).
    static func checkStorable(_ key: [UInt8]) throws {
        if key.isEmpty { throw MVCCError.emptyKey }
    }
}
