import Testing
@testable import MVCC
@testable import Server

@Suite struct TxnTests {
    func put(_ k: String, _ v: String, lease: Int64 = 0) -> RequestOp { .put(PutRequest(key: b(k), value: b(v), lease: lease)) }
    func get(_ k: String, _ end: String = "") -> RequestOp { .range(RangeRequest(key: b(k), rangeEnd: b(end))) }
    func del(_ k: String, _ end: String = "") -> RequestOp { .deleteRange(DeleteRangeRequest(key: b(k), rangeEnd: b(end))) }

    @Test func everyCompareTargetAndResult() throws {
        let t = try TempStore()
        t.leases = [5]
        try t.put("k", "m", lease: 5)  // rev 2, version 1
        try t.put("k", "m", lease: 5)  // rev 3, version 2
        func check(_ target: Compare.Target, _ value: Compare.TargetValue, _ expect: [Compare.Result: Bool]) throws {
            for (result, want) in expect {
                let r = try t.txn(TxnRequest(compare: [Compare(key: b("k"), target: target, result: result, value)]))
                #expect(r.succeeded == want, "\(target) \(result) \(value)")
            }
        }
        let all: (Bool, Bool, Bool, Bool) -> [Compare.Result: Bool] = { [.equal: $0, .greater: $1, .less: $2, .notEqual: $3] }
        try check(.version, .version(2), all(true, false, false, false))
        try check(.version, .version(1), all(false, true, false, true))
        try check(.create, .createRevision(3), all(false, false, true, true))
        try check(.mod, .modRevision(3), all(true, false, false, false))
        try check(.value, .value(b("a")), all(false, true, false, true))
        try check(.value, .value(b("z")), all(false, false, true, true))
        try check(.lease, .lease(5), all(true, false, false, false))
        // A target value of the wrong kind compares against 0.
        try check(.version, .modRevision(99), all(false, true, false, true))
    }

    @Test func missingKeysAndRangeCompares() throws {
        let t = try TempStore()
        // Missing key: version/create/mod are 0; VALUE always fails.
        #expect(try t.txn(TxnRequest(compare: [Compare(key: b("nope"), target: .version, result: .equal, .version(0))])).succeeded)
        #expect(try t.txn(TxnRequest(compare: [Compare(key: b("nope"), target: .create, result: .equal, .createRevision(0))])).succeeded)
        #expect(!(try t.txn(TxnRequest(compare: [Compare(key: b("nope"), target: .value, result: .notEqual, .value(b("x")))])).succeeded))
        try t.put("p1", "a")
        try t.put("p2", "b")
        // Every key in the range must satisfy the compare.
        #expect(try t.txn(TxnRequest(compare: [Compare(key: b("p"), target: .version, result: .equal, .version(1), rangeEnd: b("q"))])).succeeded)
        #expect(!(try t.txn(TxnRequest(compare: [Compare(key: b("p"), target: .value, result: .equal, .value(b("a")), rangeEnd: b("q"))])).succeeded))
        #expect(try t.txn(TxnRequest(compare: [Compare(key: b("p"), target: .mod, result: .greater, .modRevision(1), rangeEnd: [0])])).succeeded)
    }

    @Test func branchesOneRevisionAndReadsSeeWrites() throws {
        let t = try TempStore()
        try t.put("x", "1")  // rev 2
        let cmp = Compare(key: b("x"), target: .value, result: .equal, .value(b("1")))
        let r = try t.txn(TxnRequest(compare: [cmp], success: [put("x", "2"), put("y", "3"), get("x", "z")], failure: [get("x")]))
        #expect(r.succeeded && r.revision == 3)
        guard case .range(let rr) = r.responses[2], case .put(let pr) = r.responses[0] else { Issue.record("shape"); return }
        #expect(pr.revision == 3)
        #expect(rr.revision == 3 && t.keys(rr) == ["x", "y"] && rr.kvs[0].value == b("2") && rr.kvs[0].version == 2)
        // Failure branch: a read-only outcome does not bump the revision.
        let f = try t.txn(TxnRequest(compare: [cmp], success: [put("x", "9")], failure: [get("x")]))
        #expect(!f.succeeded && f.revision == 3)
        guard case .range(let fr) = f.responses[0] else { Issue.record("shape"); return }
        #expect(fr.kvs[0].value == b("2"))
        #expect(t.store.currentRevision == 3)
    }

    @Test func deleteThenReadInsideTxn() throws {
        let t = try TempStore()
        try t.put("a", "1"); try t.put("b", "2")
        let r = try t.txn(TxnRequest(success: [del("a", "c"), del("b"), get("a", "\0")]))
        guard case .deleteRange(let d1) = r.responses[0], case .deleteRange(let d2) = r.responses[1],
              case .range(let g) = r.responses[2] else { Issue.record("shape"); return }
        #expect(d1.deleted == 2 && d2.deleted == 0 && d2.revision == 4 && g.kvs.isEmpty && r.revision == 4)
    }

    @Test func nestedTxnComparesSeeStateBeforeTxn() throws {
        let t = try TempStore()
        try t.put("n", "old")  // rev 2
        let inner = TxnRequest(compare: [Compare(key: b("n"), target: .value, result: .equal, .value(b("old")))],
                               success: [put("inner", "then"), get("n")], failure: [put("inner", "else")])
        let r = try t.txn(TxnRequest(success: [put("n", "new"), .txn(inner)]))
        #expect(r.revision == 3)
        guard case .txn(let ir) = r.responses[1], case .range(let g) = ir.responses[1] else { Issue.record("shape"); return }
        #expect(ir.succeeded && ir.revision == 0)  // etcd leaves nested headers at 0
        #expect(g.kvs[0].value == b("new") && g.revision == 3)
        #expect(try t.get("inner").kvs[0].value == b("then"))
    }

    @Test func checksFailWholeTxnWithoutChanges() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let e1 = kvError { _ = try t.txn(TxnRequest(success: [put("b", "1"), put("c", "1", lease: 42)])) }
        #expect(e1 == .leaseNotFound)
        let e2 = kvError { _ = try t.txn(TxnRequest(success: [put("b", "1"), .put(PutRequest(key: b("zz"), ignoreValue: true))])) }
        #expect(e2 == .keyNotFound)
        let e3 = kvError { _ = try t.txn(TxnRequest(success: [put("b", "1"), .range(RangeRequest(key: b("a"), revision: 3))])) }
        #expect(e3 == .futureRevision)
        #expect(t.store.currentRevision == 2)
        #expect(try t.get("b").kvs.isEmpty)
        // Checks only look at the branch taken.
        let ok = try t.txn(TxnRequest(compare: [Compare(key: b("a"), target: .version, result: .equal, .version(1))],
                                      success: [put("b", "1")], failure: [put("c", "1", lease: 42)]))
        #expect(ok.succeeded && ok.revision == 3)
    }

    /// etcd 3.4 panics here (the delete removes the key the ignore_value put
    /// needs, after the pre-checks passed); the store answers etcd's error for
    /// the put and rolls the whole txn back.
    @Test func failureAfterWritesRollsBackTxn() throws {
        let t = try TempStore()
        try t.put("k7", "v")
        let r = t.apply([.txn(TxnRequest(success: [del("k7", "\0"), .put(PutRequest(key: b("k7"), ignoreValue: true))])),
                         .put(PutRequest(key: b("after"), value: b("1")))])
        if case .failure(let e) = r.results[0] { #expect(e == .keyNotFound) } else { Issue.record("expected failure") }
        #expect(try r.results[1].get().revision == 3)
        #expect(r.events.count == 1)
        #expect(try t.get("k7").kvs[0].value == b("v"))
    }

    /// Kubernetes' create and compare-and-swap txns (one write, last) run
    /// without a nested LMDB txn; anything else that writes keeps it.
    @Test func writesLastAndOnceClassifiesBranches() {
        let cas = Compare(key: b("k"), target: .mod, result: .equal, .modRevision(5))
        #expect(TxnRequest(compare: [cas], success: [put("k", "v")], failure: [get("k")]).writesLastAndOnce)
        #expect(TxnRequest(success: [get("k"), del("k")], failure: [put("k", "v")]).writesLastAndOnce)
        #expect(TxnRequest(success: [get("k")]).writesLastAndOnce)
        #expect(!TxnRequest(success: [put("k", "v"), get("k")]).writesLastAndOnce)
        #expect(!TxnRequest(success: [del("k7", "\0"), .put(PutRequest(key: b("k7"), ignoreValue: true))]).writesLastAndOnce)
        #expect(!TxnRequest(failure: [.txn(TxnRequest(success: [put("n", "1")]))]).writesLastAndOnce)
    }

    /// Compare-and-swaps in one batch: each sees the ones before it, a lost
    /// race answers the else branch's read, and a refused one changes nothing
    /// while the rest of the batch goes on.
    @Test func compareAndSwapsInOneBatch() throws {
        let t = try TempStore()
        try t.put("k", "0")  // revision 2
        func cas(_ rev: Int64, _ v: String, lease: Int64 = 0) -> WriteRequest {
            .txn(TxnRequest(compare: [Compare(key: b("k"), target: .mod, result: .equal, .modRevision(rev))],
                            success: [put("k", v, lease: lease)], failure: [get("k")]))
        }
        let r = t.apply([cas(2, "1"), cas(2, "lost"), cas(3, "bad", lease: 42), cas(3, "2"),
                         .put(PutRequest(key: b("after"), value: b("x")))])
        guard case .txn(let first) = try r.results[0].get(), case .txn(let lost) = try r.results[1].get(),
              case .txn(let won) = try r.results[3].get() else { Issue.record("expected txn responses"); return }
        #expect(first.succeeded && first.revision == 3)
        #expect(!lost.succeeded && lost.revision == 3)
        if case .range(let seen)? = lost.responses.first { #expect(seen.kvs.first?.value == b("1")) } else { Issue.record("no range") }
        if case .failure(let e) = r.results[2] { #expect(e == .leaseNotFound) } else { Issue.record("expected failure") }
        #expect(won.succeeded && won.revision == 4)
        #expect(try r.results[4].get().revision == 5)
        #expect(r.events.map(\.kv.modRevision) == [3, 4, 5])
        #expect(try t.get("k").kvs[0].value == b("2"))
        #expect(try t.get("k").kvs[0].version == 3)
    }

    @Test func validationErrors() throws {
        let ops = (0 ..< 129).map { put("k\($0)", "v") }
        #expect(kvError { try Validation.check(TxnRequest(success: ops)) } == .tooManyOps)
        #expect(kvError { try Validation.check(TxnRequest(success: Array(ops.prefix(128)))) } == nil)
        #expect(kvError { try Validation.check(TxnRequest(success: [put("a", "1"), put("a", "2")])) } == .duplicateKey)
        #expect(kvError { try Validation.check(TxnRequest(success: [put("b", "1"), del("a", "c")])) } == .duplicateKey)
        #expect(kvError { try Validation.check(TxnRequest(success: [put("b", "1"), del("b")])) } == .duplicateKey)
        // A from-key delete ("\0" end) overlaps nothing in etcd's interval check.
        #expect(kvError { try Validation.check(TxnRequest(success: [del("a", "\0"), put("b", "1")])) } == nil)
        // Puts in then/else of one nested txn may repeat; against the parent they may not.
        let nested = TxnRequest(success: [put("n", "1")], failure: [put("n", "2")])
        #expect(kvError { try Validation.check(TxnRequest(success: [.txn(nested)])) } == nil)
        #expect(kvError { try Validation.check(TxnRequest(success: [.txn(nested), put("n", "3")])) } == .duplicateKey)
        #expect(kvError { try Validation.check(TxnRequest(success: [.txn(TxnRequest(success: [del("m", "o")])), put("n", "3")])) } == .duplicateKey)
        #expect(kvError { try Validation.check(TxnRequest(success: [del("a", "z"), .txn(nested)])) } == .duplicateKey)
        #expect(kvError { try Validation.check(TxnRequest(success: [.empty])) } == .keyNotFound)
        #expect(kvError { try Validation.check(TxnRequest(compare: [Compare(key: [], target: .version, result: .equal, nil)])) } == .emptyKey)
        #expect(kvError { try Validation.check(PutRequest(key: [])) } == .emptyKey)
        #expect(kvError { try Validation.check(PutRequest(key: b("a"), value: b("v"), ignoreValue: true)) } == .valueProvided)
        #expect(kvError { try Validation.check(PutRequest(key: b("a"), lease: 1, ignoreLease: true)) } == .leaseProvided)
        #expect(kvError { try Validation.check(RangeRequest(key: [])) } == .emptyKey)
        #expect(kvError { try Validation.check(DeleteRangeRequest(key: [])) } == .emptyKey)
        #expect(ServerError.duplicateKey.message == "etcdserver: duplicate key given in txn request")
        #expect(ServerError(MVCCError.leaseNotFound).code == .notFound)
    }

    @Test func readOnlyTxnServedLocally() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let tr = TxnRequest(compare: [Compare(key: b("a"), target: .value, result: .equal, .value(b("1")))], success: [get("a")])
        #expect(tr.isReadOnly)
        let r = try t.store.readOnlyTxn(tr)
        #expect(r.succeeded && r.revision == 2)
    }
}
