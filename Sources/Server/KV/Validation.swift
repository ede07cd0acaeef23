import MVCC

/// etcd's request checks done before a request is proposed
/// (etcdserver/api/v3rpc/key.go), answering with etcd's RPC errors. They
/// depend only on the request, so the server runs them on the gRPC path and
/// answers without going through Raft; MVCC's apply assumes them done.
enum Validation {
    static let defaultMaxTxnOps = 128

    static func check(_ r: RangeRequest) throws {
        if r.key.isEmpty { throw ServerError.emptyKey }
    }

    static func check(_ r: PutRequest) throws {
        if r.key.isEmpty { throw ServerError.emptyKey }
        if r.ignoreValue && !r.value.isEmpty { throw ServerError.valueProvided }
        if r.ignoreLease && r.lease != 0 { throw ServerError.leaseProvided }
    }

    static func check(_ r: DeleteRangeRequest) throws {
        if r.key.isEmpty { throw ServerError.emptyKey }
    }

    /// checkTxnRequest followed by the overlap checks (checkIntervals) on
    /// both branches, in etcd's order.
    ///
    /// - Parameter maxDepth: the deepest txn nesting (the outer txn is 1)
    ///   the applier can decode from a Raft entry. etcd has no such bound,
    ///   but its op budget shrinks by at least one per level, so it refuses
    ///   nesting deeper than `maxTxnOps` with "too many operations"; a txn
    ///   deeper than `maxDepth` (only reachable with a raised
    ///   `--max-txn-ops`) gets the same answer rather than being committed
    ///   and then skipped by every member.
    static func check(_ r: TxnRequest, maxTxnOps: Int = defaultMaxTxnOps, maxDepth: Int = .max) throws {
        try checkTxn(r, maxTxnOps: maxTxnOps)
        if depth(r, limit: maxDepth) > maxDepth { throw ServerError.tooManyOps }
        if !TxnIntervals.cannotOverlap(r.success) { _ = try TxnIntervals.check(r.success) }
        if !TxnIntervals.cannotOverlap(r.failure) { _ = try TxnIntervals.check(r.failure) }
    }

    /// Checks any write request (compaction and noop have nothing to check).
    static func check(_ w: WriteRequest, maxTxnOps: Int = defaultMaxTxnOps, maxDepth: Int = .max) throws {
        switch w {
        case .put(let p): try check(p)
        case .deleteRange(let d): try check(d)
        case .txn(let t): try check(t, maxTxnOps: maxTxnOps, maxDepth: maxDepth)
        case .compact, .noop, .leaseGrant, .leaseRevoke, .leaseCheckpoint, .bucketRecords: break
        }
    }

    static func checkTxn(_ r: TxnRequest, maxTxnOps: Int) throws {
        let opc = max(r.compare.count, r.success.count, r.failure.count)
        if opc > maxTxnOps { throw ServerError.tooManyOps }
        for c in r.compare where c.key.isEmpty { throw ServerError.emptyKey }
        for u in r.success { try checkOp(u, maxTxnOps: maxTxnOps - opc) }
        for u in r.failure { try checkOp(u, maxTxnOps: maxTxnOps - opc) }
    }

    /// Nesting depth of `t` (1: no nested txn), counted no further than
    /// `limit + 1`.
    static func depth(_ t: TxnRequest, limit: Int) -> Int {
        guard limit > 0 else { return 1 }
        var deepest = 0
        for case .txn(let inner) in t.success where deepest < limit {
            deepest = max(deepest, depth(inner, limit: limit - 1))
        }
        for case .txn(let inner) in t.failure where deepest < limit {
            deepest = max(deepest, depth(inner, limit: limit - 1))
        }
        return deepest + 1
    }

    static func checkOp(_ op: RequestOp, maxTxnOps: Int) throws {
        switch op {
        case .range(let r): try check(r)
        case .put(let p): try check(p)
        case .deleteRange(let d): try check(d)
        case .txn(let t): try checkTxn(t, maxTxnOps: maxTxnOps)
        case .empty: throw ServerError.keyNotFound
        }
    }
}

/// etcd's checkIntervals: puts and deletes of a txn may not touch the same
/// key, across nesting levels; puts in the then/else branches of one nested
/// txn may repeat a key (only one branch runs).
enum TxnIntervals {
    /// A delete's key set as etcd's adt interval over "string affine"
    /// bounds, where the empty string is +infinity. A point delete is
    /// [key, key+"\0"); a range delete [key, rangeEnd) taken verbatim, so a
    /// "\0" (from-key) end makes an interval that overlaps nothing, as in etcd.
    struct Interval {
        var begin: [UInt8]
        var end: [UInt8]

        static func affineCompare(_ a: [UInt8], _ b: [UInt8]) -> Int {
            if a.isEmpty { return b.isEmpty ? 0 : 1 }
            if b.isEmpty { return -1 }
            return a == b ? 0 : (a.lexicographicallyPrecedes(b) ? -1 : 1)
        }

        /// Whether the point interval of `k` overlaps this one (adt.Interval.Compare == 0).
        func contains(_ k: [UInt8]) -> Bool {
            if Self.affineCompare(k, begin) < 0 && Self.affineCompare(k + [0], begin) <= 0 { return false }
            if Self.affineCompare(k, end) >= 0 { return false }
            return true
        }
    }

    /// A branch without nested txns or deletes and with at most one put
    /// (a Kubernetes create or update) has nothing to overlap: `check`
    /// would pass it, without building its sets.
    static func cannotOverlap(_ reqs: [RequestOp]) -> Bool {
        var puts = 0
        for op in reqs {
            switch op {
            case .put: puts += 1
            case .range, .empty: break
            case .deleteRange, .txn: return false
            }
        }
        return puts <= 1
    }

    static func check(_ reqs: [RequestOp]) throws -> (puts: Set<[UInt8]>, dels: [Interval]) {
        var dels: [Interval] = []
        for case .deleteRange(let d) in reqs {
            dels.append(Interval(begin: d.key, end: d.rangeEnd.isEmpty ? d.key + [0] : d.rangeEnd))
        }
        func deleted(_ k: [UInt8]) -> Bool { dels.contains { $0.contains(k) } }

        var puts = Set<[UInt8]>()
        for case .txn(let t) in reqs {
            let (putsThen, delsThen) = try check(t.success)
            let (putsElse, delsElse) = try check(t.failure)
            for k in putsThen {
                if puts.contains(k) || deleted(k) { throw ServerError.duplicateKey }
                puts.insert(k)
            }
            for k in putsElse {
                if puts.contains(k) && !putsThen.contains(k) { throw ServerError.duplicateKey }
                if deleted(k) { throw ServerError.duplicateKey }
                puts.insert(k)
            }
            dels += delsThen
            dels += delsElse
        }
        for case .put(let p) in reqs {
            if puts.contains(p.key) || deleted(p.key) { throw ServerError.duplicateKey }
            puts.insert(p.key)
        }
        return (puts, dels)
    }
}
