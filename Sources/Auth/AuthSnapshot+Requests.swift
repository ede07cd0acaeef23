import MVCC

extension AuthSnapshot {
    /// The keys a lease holds (the lessor's view), for checks that need them.
    public typealias LeaseKeys = (Int64) -> [[UInt8]]

    /// etcd's authApplierV3 checks for one KV write, in etcd's order: nil
    /// when `info` may apply it.
    public func check(_ info: AuthInfo?, write request: WriteRequest, leaseKeys: LeaseKeys) -> AuthFailure? {
        guard enabled else { return nil }
        switch request {
        case .put(let p):
            if let f = check(info, .write, key: p.key) { return f }
            if p.lease != 0, let f = checkLeaseKeys(info, p.lease, leaseKeys) { return f }
            return p.prevKV ? check(info, .read, key: p.key) : nil
        case .deleteRange(let d):
            if let f = check(info, .write, key: d.key, rangeEnd: d.rangeEnd) { return f }
            return d.prevKV ? check(info, .read, key: d.key, rangeEnd: d.rangeEnd) : nil
        case .txn(let t):
            return check(info, txn: t)
        case .compact, .noop, .leaseGrant, .leaseRevoke, .leaseCheckpoint, .bucketRecords:
            return nil
        }
    }

    /// etcd's checkTxnAuth: read on every compare, then each op of the
    /// success and failure branches; nested txns are checked the same way.
    public func check(_ info: AuthInfo?, txn: TxnRequest) -> AuthFailure? {
        guard enabled else { return nil }
        for c in txn.compare {
            if let f = check(info, .read, key: c.key, rangeEnd: c.rangeEnd) { return f }
        }
        for op in txn.success + txn.failure {
            switch op {
            case .range(let r):
                if let f = check(info, .read, key: r.key, rangeEnd: r.rangeEnd) { return f }
            case .put(let p):
                if let f = check(info, .write, key: p.key) { return f }
            case .deleteRange(let d):
                if d.prevKV, let f = check(info, .read, key: d.key, rangeEnd: d.rangeEnd) { return f }
                if let f = check(info, .write, key: d.key, rangeEnd: d.rangeEnd) { return f }
            case .txn(let nested):
                if let f = check(info, txn: nested) { return f }
            case .empty:
                continue
            }
        }
        return nil
    }

    /// etcd's checkLeasePuts: a lease may be revoked, or attached to a new
    /// key, only by a user who may write every key it holds.
    public func checkLeaseKeys(_ info: AuthInfo?, _ lease: Int64, _ leaseKeys: LeaseKeys) -> AuthFailure? {
        guard enabled else { return nil }
        for key in leaseKeys(lease) {
            if let f = check(info, .write, key: key) { return f }
        }
        return nil
    }
}
