/// etcd's Txn applier (etcdserver/apply.go: Txn, compareToPath,
/// checkRequests, applyTxn).
///
/// All compares, at every nesting level, are evaluated first against the
/// state before the txn (`TxnPath`); then the chosen branches' puts are
/// checked (ignore_value/ignore_lease need the key, leases must exist) and
/// their ranges' revisions; only then do ops run, in order, with reads seeing
/// the txn's earlier writes. The whole txn is one revision.
struct TxnPath {
    var succeeded: Bool
    /// Paths of the nested txns in the chosen branch, in op order.
    var nested: [TxnPath]
}

extension KVWriter {
    mutating func applyTxn(_ t: TxnRequest, compactRev: Int64, leaseExists: (Int64) -> Bool) throws -> TxnResponse {
        let path = try Self.compareToPath(t, reader: reader, atRev: readRev)
        if !t.isReadOnly {
            try checkRequests(t, path) { op in try checkPut(op, leaseExists: leaseExists) }
        }
        try checkRequests(t, path) { op in
            if case .empty = op { throw MVCCError.keyNotFound }
            guard case .range(let r) = op else { return }
            if r.revision == 0 { return }
            if r.revision > readRev { throw MVCCError.futureRevision }
            if r.revision < compactRev { throw MVCCError.compacted }
        }
        var resp = try execute(t, path, compactRev: compactRev, leaseExists: leaseExists)
        resp.revision = readRev
        return resp
    }

    static func compareToPath(_ t: TxnRequest, reader: KVReader, atRev: Int64) throws -> TxnPath {
        var ok = true
        for c in t.compare where try !applyCompare(c, reader: reader, atRev: atRev) {
            ok = false
            break
        }
        var nested: [TxnPath] = []
        for case .txn(let inner) in ok ? t.success : t.failure {
            nested.append(try compareToPath(inner, reader: reader, atRev: atRev))
        }
        return TxnPath(succeeded: ok, nested: nested)
    }

    static func applyCompare(_ c: Compare, reader: KVReader, atRev: Int64) throws -> Bool {
        if c.key.isEmpty { return false }
        let bounds = KeyBounds(key: c.key, rangeEnd: c.rangeEnd)
        if c.target == .version || c.target == .create || c.target == .mod {
            // The index entries hold these: no record reads (Kubernetes
            // guards every update with a mod-revision compare).
            var any = false, all = true
            try reader.visitLive(bounds, atRev: atRev, latest: true) { _, e in
                any = true
                all = compareKV(c, KeyValue(key: [], createRevision: e.createRevision,
                                            modRevision: e.revision.main, version: e.version))
                return all
            }
            return any ? all : compareKV(c, KeyValue(key: []))
        }
        let kvs = try reader.rangeKeys(bounds, atRev: atRev, latest: true, limit: 0, countOnly: false).kvs
        if kvs.isEmpty {
            // A missing key has no value: a VALUE compare always fails.
            if c.target == .value { return false }
            return compareKV(c, KeyValue(key: []))
        }
        return kvs.allSatisfy { compareKV(c, $0) }
    }

    static func compareKV(_ c: Compare, _ kv: KeyValue) -> Bool {
        func cmp(_ a: Int64, _ b: Int64) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
        let result: Int
        switch c.target {
        case .value:
            var v: [UInt8] = []
            if case .value(let x)? = c.targetValue { v = x }
            result = Bytes.compare(kv.value, v)
        case .create:
            var r: Int64 = 0
            if case .createRevision(let x)? = c.targetValue { r = x }
            result = cmp(kv.createRevision, r)
        case .mod:
            var r: Int64 = 0
            if case .modRevision(let x)? = c.targetValue { r = x }
            result = cmp(kv.modRevision, r)
        case .version:
            var r: Int64 = 0
            if case .version(let x)? = c.targetValue { r = x }
            result = cmp(kv.version, r)
        case .lease:
            var r: Int64 = 0
            if case .lease(let x)? = c.targetValue { r = x }
            result = cmp(kv.lease, r)
        case .unrecognized:
            result = 0  // etcd's switch has no case for it
        }
        switch c.result {
        case .equal: return result == 0
        case .notEqual: return result != 0
        case .greater: return result > 0
        case .less: return result < 0
        case .unrecognized: return true  // etcd's fall-through
        }
    }

    /// Runs `f` on every non-txn op of the chosen branches.
    func checkRequests(_ t: TxnRequest, _ path: TxnPath, _ f: (RequestOp) throws -> Void) throws {
        var n = 0
        for op in path.succeeded ? t.success : t.failure {
            if case .txn(let inner) = op {
                try checkRequests(inner, path.nested[n], f)
                n += 1
            } else {
                try f(op)
            }
        }
    }

    func checkPut(_ op: RequestOp, leaseExists: (Int64) -> Bool) throws {
        guard case .put(let p) = op else { return }
        try Self.checkStorable(p.key)
        if p.ignoreValue || p.ignoreLease {
            let n = try reader.rangeKeys(.single(p.key), atRev: readRev, latest: true, limit: 0, countOnly: true).count
            if n == 0 { throw MVCCError.keyNotFound }
        }
        if p.lease != 0 && !leaseExists(p.lease) { throw MVCCError.leaseNotFound }
    }

    mutating func execute(_ t: TxnRequest, _ path: TxnPath, compactRev: Int64,
                          leaseExists: (Int64) -> Bool) throws -> TxnResponse {
        var responses: [ResponseOp] = []
        var n = 0
        for op in path.succeeded ? t.success : t.failure {
            switch op {
            case .range(let r):
                responses.append(.range(try reader.applyRange(r, curRev: readRev, compactRev: compactRev)))
            case .put(let p):
                responses.append(.put(try applyPut(p, inTxn: true, leaseExists: leaseExists)))
            case .deleteRange(let d):
                responses.append(.deleteRange(try applyDelete(d)))
            case .txn(let inner):
                // etcd leaves a nested txn's header revision at 0.
                responses.append(.txn(try execute(inner, path.nested[n], compactRev: compactRev, leaseExists: leaseExists)))
                n += 1
            case .empty:
                throw MVCCError.keyNotFound
            }
        }
        return TxnResponse(revision: 0, succeeded: path.succeeded, responses: responses)
    }
}
