import Testing
@testable import MVCC
@testable import Server

/// Every integer a client controls at its extremes, through the read path
/// and through apply (issue 18: `limit = Int64.max` trapped in `limit + 1`,
/// inside a write txn while applying a committed entry). A trap here would
/// end the test process; each case also checks the answer.
@Suite struct HostileValueTests {
    static let edges: [Int64] = [.min, .min + 1, -2, -1, 0, 1, 2, 1 << 31, 1 << 32, .max - 1, .max]

    func fixture() throws -> TempStore {
        let t = try TempStore()
        for k in ["a", "b", "c"] { try t.put(k, "v") }  // revisions 2, 3, 4
        return t
    }

    @Test func fetchLimitSaturates() {
        #expect(KVReader.fetchLimit(0, fetchesAll: false) == 0)
        #expect(KVReader.fetchLimit(-5, fetchesAll: false) == 0)
        #expect(KVReader.fetchLimit(2, fetchesAll: false) == 3)
        #expect(KVReader.fetchLimit(2, fetchesAll: true) == 0)
        #expect(KVReader.fetchLimit(.max - 1, fetchesAll: false) == Int(Int64.max))
        #expect(KVReader.fetchLimit(.max, fetchesAll: false) == 0)
    }

    @Test func rangeLimitExtremesReturnEveryKey() throws {
        let t = try fixture()
        for limit in Self.edges where limit <= 0 || limit >= 3 {
            let r = try t.store.range(RangeRequest(key: b("a"), rangeEnd: [0], limit: limit))
            #expect(t.keys(r) == ["a", "b", "c"] && !r.more && r.count == 3, "limit \(limit)")
        }
    }

    @Test func writeTxnWithHugeLimitRangeApplies() throws {
        let t = try fixture()
        let txn = TxnRequest(success: [.put(PutRequest(key: b("d"), value: b("v"))),
                                       .range(RangeRequest(key: b("a"), rangeEnd: [0], limit: .max))])
        let r = try t.txn(txn)
        guard case .range(let rr) = r.responses[1] else { Issue.record("shape"); return }
        #expect(t.keys(rr) == ["a", "b", "c", "d"] && !rr.more && r.revision == 5)
    }

    /// Every request kind with each edge value in each integer field, applied
    /// in one batch to two stores: no trap, the same answers, the same state.
    @Test func edgeValuesApplyIdenticallyAndNeverTrap() throws {
        var requests: [WriteRequest] = []
        for v in Self.edges {
            let ranges = [
                RangeRequest(key: b("a"), rangeEnd: [0], limit: v),
                RangeRequest(key: b("a"), rangeEnd: [0], revision: v),
                RangeRequest(key: b("a"), rangeEnd: [0], limit: v, sortOrder: .descend, sortTarget: .mod),
                RangeRequest(key: b("a"), rangeEnd: [0], limit: v, minModRevision: v, maxModRevision: v,
                             minCreateRevision: v, maxCreateRevision: v),
            ]
            let compares = [Compare.Target.version, .create, .mod, .lease, .value, .unrecognized].flatMap { target in
                [Compare.Result.equal, .greater, .less, .notEqual, .unrecognized].map { result in
                    Compare(key: b("a"), target: target, result: result, .modRevision(v), rangeEnd: [0])
                }
            }
            for r in ranges {
                requests.append(.txn(TxnRequest(compare: compares, success: [.put(PutRequest(key: b("w"), value: b("1"))), .range(r)],
                                                 failure: [.range(r), .put(PutRequest(key: b("w"), value: b("2")))])))
            }
            requests.append(.put(PutRequest(key: b("p"), value: b("x"), lease: v)))
            requests.append(.txn(TxnRequest(success: [.put(PutRequest(key: b("q"), lease: v))])))
            requests.append(.compact(CompactionRequest(revision: v)))
            requests.append(.leaseCheckpoint([StoredLease(id: v, ttlSeconds: v, remainingTTLSeconds: v)]))
        }
        let one = try fixture(), two = try fixture()
        let first = one.apply(requests), second = two.apply(requests)
        #expect(first.results == second.results)
        #expect(first.results.allSatisfy { if case .failure(let e) = $0 { !e.isStoreFailure } else { true } })
        // Compactions finish in the background: wait before hashing.
        #expect(one.store.compactRevision == two.store.compactRevision)
        one.store.waitForCompaction(one.store.compactRevision)
        two.store.waitForCompaction(two.store.compactRevision)
        #expect(try one.store.hashAll().hash == two.store.hashAll().hash)
        #expect(one.store.currentRevision > 4)
    }

    @Test func unrecognizedCompareEnumsAsEtcd() throws {
        let t = try fixture()
        func succeeded(_ target: Compare.Target, _ result: Compare.Result) throws -> Bool {
            try t.txn(TxnRequest(compare: [Compare(key: b("a"), target: target, result: result, .version(7))])).succeeded
        }
        // etcd: an unknown target compares as 0; an unknown result is true.
        #expect(try succeeded(.unrecognized, .equal))
        #expect(try !succeeded(.unrecognized, .notEqual))
        #expect(try !succeeded(.unrecognized, .greater))
        #expect(try succeeded(.version, .unrecognized))
        #expect(try succeeded(.unrecognized, .unrecognized))
    }

    @Test func txnDepthBeyondTheDecoderIsTooManyOps() {
        func nested(_ depth: Int) -> TxnRequest {
            var t = TxnRequest(success: [.put(PutRequest(key: b("k"), value: b("v")))])
            for _ in 1..<depth { t = TxnRequest(success: [.txn(t)]) }
            return t
        }
        #expect(Validation.depth(nested(1), limit: 10) == 1)
        #expect(Validation.depth(nested(7), limit: 10) == 7)
        #expect(Validation.depth(nested(50), limit: 10) == 11)  // stops counting past the limit
        #expect(kvError { try Validation.check(nested(20), maxTxnOps: 1000, maxDepth: 20) } == nil)
        #expect(kvError { try Validation.check(nested(21), maxTxnOps: 1000, maxDepth: 20) } == .tooManyOps)
        // etcd's own op budget: each level spends one of maxTxnOps.
        #expect(kvError { try Validation.check(nested(128)) } == nil)
        #expect(kvError { try Validation.check(nested(129)) } == .tooManyOps)
    }
}
