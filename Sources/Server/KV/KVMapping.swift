import MVCC
import Proto

/// Wire messages (etcdserverpb) ↔ the MVCC store's request and response
/// values. Pure and total: every wire value maps to something the store
/// validates, so odd input becomes etcd's error rather than a crash.
enum KVMapping {
    // MARK: requests

    static func range(_ r: Etcdserverpb.RangeRequest) -> MVCC.RangeRequest {
        MVCC.RangeRequest(
            key: r.key, rangeEnd: r.rangeEnd, limit: r.limit, revision: r.revision,
            sortOrder: MVCC.RangeRequest.SortOrder(rawValue: Int(r.sortOrder.rawValue)) ?? .none,
            sortTarget: MVCC.RangeRequest.SortTarget(rawValue: Int(r.sortTarget.rawValue)) ?? .key,
            serializable: r.serializable, keysOnly: r.keysOnly, countOnly: r.countOnly,
            minModRevision: r.minModRevision, maxModRevision: r.maxModRevision,
            minCreateRevision: r.minCreateRevision, maxCreateRevision: r.maxCreateRevision)
    }

    static func put(_ r: Etcdserverpb.PutRequest) -> MVCC.PutRequest {
        MVCC.PutRequest(key: r.key, value: r.value, lease: r.lease, prevKV: r.prevKv,
                        ignoreValue: r.ignoreValue, ignoreLease: r.ignoreLease)
    }

    static func deleteRange(_ r: Etcdserverpb.DeleteRangeRequest) -> MVCC.DeleteRangeRequest {
        MVCC.DeleteRangeRequest(key: r.key, rangeEnd: r.rangeEnd, prevKV: r.prevKv)
    }

    static func txn(_ r: Etcdserverpb.TxnRequest) -> MVCC.TxnRequest {
        MVCC.TxnRequest(compare: r.compare.map(compare), success: r.success.map(requestOp), failure: r.failure.map(requestOp))
    }

    static func compaction(_ r: Etcdserverpb.CompactionRequest) -> MVCC.CompactionRequest {
        MVCC.CompactionRequest(revision: r.revision, physical: r.physical)
    }

    static func compare(_ c: Etcdserverpb.Compare) -> MVCC.Compare {
        let value: MVCC.Compare.TargetValue?
        switch c.targetUnion {
        case .version(let v)?: value = .version(v)
        case .createRevision(let v)?: value = .createRevision(v)
        case .modRevision(let v)?: value = .modRevision(v)
        case .value(let v)?: value = .value(v)
        case .lease(let v)?: value = .lease(v)
        case nil: value = nil
        }
        // Values the enums do not define stay unrecognized, as in etcd's
        // compare (a raw -1 is no defined value either).
        return MVCC.Compare(key: c.key,
                            target: c.target.rawValue < 0 ? .unrecognized
                                : MVCC.Compare.Target(rawValue: Int(c.target.rawValue)) ?? .unrecognized,
                            result: c.result.rawValue < 0 ? .unrecognized
                                : MVCC.Compare.Result(rawValue: Int(c.result.rawValue)) ?? .unrecognized,
                            value, rangeEnd: c.rangeEnd)
    }

    static func requestOp(_ op: Etcdserverpb.RequestOp) -> MVCC.RequestOp {
        switch op.request {
        case .requestRange(let r)?: return .range(range(r))
        case .requestPut(let r)?: return .put(put(r))
        case .requestDeleteRange(let r)?: return .deleteRange(deleteRange(r))
        case .requestTxn(let r)?: return .txn(txn(r))
        case nil: return .empty
        }
    }

    // MARK: responses

    static func keyValue(_ kv: MVCC.KeyValue) -> Mvccpb.KeyValue {
        var out = Mvccpb.KeyValue()
        out.key = kv.key
        out.createRevision = kv.createRevision
        out.modRevision = kv.modRevision
        out.version = kv.version
        out.value = kv.value
        out.lease = kv.lease
        return out
    }

    static func rangeResponse(_ r: MVCC.RangeResponse, header: Etcdserverpb.ResponseHeader) -> Etcdserverpb.RangeResponse {
        var out = Etcdserverpb.RangeResponse()
        out.header = header
        out.kvs = r.kvs.map(keyValue)
        out.more = r.more
        out.count = r.count
        return out
    }

    static func putResponse(_ r: MVCC.PutResponse, header: Etcdserverpb.ResponseHeader) -> Etcdserverpb.PutResponse {
        var out = Etcdserverpb.PutResponse()
        out.header = header
        out.prevKv = r.prevKV.map(keyValue)
        return out
    }

    static func deleteRangeResponse(_ r: MVCC.DeleteRangeResponse, header: Etcdserverpb.ResponseHeader) -> Etcdserverpb.DeleteRangeResponse {
        var out = Etcdserverpb.DeleteRangeResponse()
        out.header = header
        out.deleted = r.deleted
        out.prevKvs = r.prevKVs.map(keyValue)
        return out
    }

    /// `header` is the outer response's; inner responses carry a header with
    /// only the revision each op saw, as etcd's apply fills them.
    static func txnResponse(_ r: MVCC.TxnResponse, header: Etcdserverpb.ResponseHeader) -> Etcdserverpb.TxnResponse {
        var out = Etcdserverpb.TxnResponse()
        out.header = header
        out.succeeded = r.succeeded
        out.responses = r.responses.map { op in
            var inner = Etcdserverpb.ResponseOp()
            switch op {
            case .range(let x): inner.response = .responseRange(rangeResponse(x, header: revisionHeader(x.revision)))
            case .put(let x): inner.response = .responsePut(putResponse(x, header: revisionHeader(x.revision)))
            case .deleteRange(let x):
                inner.response = .responseDeleteRange(deleteRangeResponse(x, header: revisionHeader(x.revision)))
            case .txn(let x): inner.response = .responseTxn(txnResponse(x, header: revisionHeader(x.revision)))
            }
            return inner
        }
        return out
    }

    static func revisionHeader(_ revision: Int64) -> Etcdserverpb.ResponseHeader {
        var h = Etcdserverpb.ResponseHeader()
        h.revision = revision
        return h
    }
}
