import Proto

/// Builders for the KV requests the concurrency recipes send (the shapes
/// clientv3's OpGet/OpPut/WithFirstCreate/... produce).
enum KeyOps {
    /// The end of the range of every key starting with `prefix` (clientv3's
    /// GetPrefixRangeEnd): the prefix with its last byte below 0xff
    /// incremented, or "\0" (to the end) if every byte is 0xff.
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }

    static func get(_ key: [UInt8]) -> Etcdserverpb.RangeRequest {
        var r = Etcdserverpb.RangeRequest()
        r.key = key
        return r
    }

    /// The oldest key under `prefix` by create revision (WithFirstCreate).
    static func firstCreated(_ prefix: [UInt8]) -> Etcdserverpb.RangeRequest {
        var r = get(prefix)
        r.rangeEnd = prefixEnd(prefix)
        r.sortTarget = .create
        r.sortOrder = .ascend
        r.limit = 1
        return r
    }

    /// The newest key under `prefix` created at or before `maxCreateRevision`
    /// (WithLastCreate + WithMaxCreateRev).
    static func lastCreated(_ prefix: [UInt8], atOrBefore maxCreateRevision: Int64) -> Etcdserverpb.RangeRequest {
        var r = firstCreated(prefix)
        r.sortOrder = .descend
        r.maxCreateRevision = maxCreateRevision
        return r
    }

    static func createRevision(of key: [UInt8], is revision: Int64) -> Etcdserverpb.Compare {
        var c = Etcdserverpb.Compare()
        c.key = key
        c.target = .create
        c.result = .equal
        c.targetUnion = .createRevision(revision)
        return c
    }

    static func put(_ key: [UInt8], _ value: [UInt8], lease: Int64) -> Etcdserverpb.RequestOp {
        var p = Etcdserverpb.PutRequest()
        p.key = key
        p.value = value
        p.lease = lease
        var op = Etcdserverpb.RequestOp()
        op.request = .requestPut(p)
        return op
    }

    static func range(_ r: Etcdserverpb.RangeRequest) -> Etcdserverpb.RequestOp {
        var op = Etcdserverpb.RequestOp()
        op.request = .requestRange(r)
        return op
    }

    static func delete(_ key: [UInt8]) -> Etcdserverpb.RequestOp {
        var op = Etcdserverpb.RequestOp()
        op.request = .requestDeleteRange(deleteRequest(key))
        return op
    }

    static func deleteRequest(_ key: [UInt8]) -> Etcdserverpb.DeleteRangeRequest {
        var d = Etcdserverpb.DeleteRangeRequest()
        d.key = key
        return d
    }

    static func txn(if compare: Etcdserverpb.Compare, then success: [Etcdserverpb.RequestOp],
                    else failure: [Etcdserverpb.RequestOp] = []) -> Etcdserverpb.TxnRequest {
        var t = Etcdserverpb.TxnRequest()
        t.compare = [compare]
        t.success = success
        t.failure = failure
        return t
    }

    /// The KVs of the `index`th response of a txn, if it is a range.
    static func rangeKVs(_ response: Etcdserverpb.TxnResponse, _ index: Int) -> [Mvccpb.KeyValue] {
        guard index < response.responses.count, case .responseRange(let r)? = response.responses[index].response else {
            return []
        }
        return r.kvs
    }
}
