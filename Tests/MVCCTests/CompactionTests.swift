import Testing
@testable import MVCC
@testable import Server

@Suite struct CompactionTests {
    func compact(_ t: TempStore, _ rev: Int64) throws -> CompactionResponse {
        guard case .compact(let c) = try t.write(.compact(CompactionRequest(revision: rev, physical: true))) else {
            throw MVCCError(.internal, "shape")
        }
        return c
    }

    @Test func compactionRulesAndErrors() throws {
        let t = try TempStore()
        for i in 0 ..< 5 { try t.put("k", "v\(i)") }  // revs 2...6
        try t.put("gone", "x")                           // 7
        try t.delete("gone")                             // 8
        #expect(kvError { _ = try compact(t, 9) } == .futureRevision)
        #expect(try compact(t, 5).revision == 8)
        t.store.waitForCompaction(5)
        #expect(t.store.compactRevision == 5 && t.store.finishedCompactRevision == 5)
        #expect(kvError { _ = try compact(t, 5) } == .compacted)
        #expect(kvError { _ = try compact(t, 3) } == .compacted)
        #expect(kvError { _ = try t.get("k", rev: 4) } == .compacted)
        #expect(ServerError(MVCCError.compacted).message == "etcdserver: mvcc: required revision has been compacted")
        // At the compaction revision itself reads still work.
        #expect(try t.get("k", rev: 5).kvs[0].value == b("v3"))
        #expect(try t.get("k", rev: 6).kvs[0].value == b("v4"))
        #expect(try t.get("k").kvs[0].version == 5)
        #expect(kvError { _ = try t.store.events(fromRevision: 4, key: b("k")) } == .compacted)
        // Superseded records are gone: history from 5 holds only v3 (kept) and later.
        let h = try t.store.events(fromRevision: 5, key: b("a"), rangeEnd: [0])
        #expect(h.events.map { s($0.kv.value) } == ["v3", "v4", "x", ""])
        _ = try compact(t, 8)
        t.store.waitForCompaction(8)
        let h2 = try t.store.events(fromRevision: 8, key: b("a"), rangeEnd: [0])
        #expect(h2.events.isEmpty)  // the tombstone of "gone" went too
        #expect(try t.get("gone").kvs.isEmpty)
        #expect(try t.store.recordCount() == 1)  // only k@6 is left
        // Compaction never changes the revision.
        #expect(t.store.currentRevision == 8)
    }

    @Test func compactionInChunksKeepsLatest() throws {
        var o = MVCCStore.Options()
        o.compactionChunkKeys = 3
        let t = try TempStore(options: o)
        for round in 0 ..< 3 {
            t.apply((0 ..< 20).map { .put(PutRequest(key: b("key\($0)"), value: b("r\(round)"))) })
        }
        let rev = t.store.currentRevision
        _ = try compact(t, rev)
        t.store.waitForCompaction(rev)
        let r = try t.get("key", "kez")
        #expect(r.count == 20 && r.kvs.allSatisfy { $0.value == b("r2") && $0.version == 3 })
        #expect(try t.store.recordCount() == 20)
    }

    /// `--experimental-compaction-batch-limit`: one LMDB write txn per
    /// `compactionChunkKeys` keys (etcd: per batch), so 20 keys in chunks of
    /// 3 take 7 chunks and in chunks of 1000 one.
    @Test func compactionBatchLimitSetsKeysPerChunk() throws {
        for (limit, chunks) in [(3, 7), (1000, 1)] {
            var o = MVCCStore.Options()
            o.compactionChunkKeys = limit
            let t = try TempStore(options: o)
            t.apply((0 ..< 20).map { .put(PutRequest(key: b("key\($0)"), value: b("v"))) })
            t.apply((0 ..< 20).map { .put(PutRequest(key: b("key\($0)"), value: b("w"))) })
            let before = t.store.compactionChunksCommitted
            _ = try compact(t, t.store.currentRevision)
            t.store.waitForCompaction(t.store.currentRevision)
            #expect(t.store.compactionChunksCommitted - before == chunks, "limit \(limit)")
            #expect(try t.store.recordCount() == 20)
        }
    }

    /// `--experimental-compaction-sleep-interval`: chunks are that far apart,
    /// so 3 chunks take at least two intervals (a lower bound, never flaky).
    @Test func compactionSleepsBetweenChunks() throws {
        var o = MVCCStore.Options()
        o.compactionChunkKeys = 4
        o.compactionSleep = .milliseconds(300)
        let t = try TempStore(options: o)
        for round in 0 ..< 2 { t.apply((0 ..< 10).map { .put(PutRequest(key: b("k\($0)"), value: b("\(round)"))) }) }
        let clock = ContinuousClock()
        let start = clock.now
        _ = try compact(t, t.store.currentRevision)
        t.store.waitForCompaction(t.store.currentRevision)
        #expect(clock.now - start >= .milliseconds(600))
        #expect(try t.store.recordCount() == 10)
    }

    @Test func txnRangeBelowCompactionRefused() throws {
        let t = try TempStore()
        for i in 0 ..< 4 { try t.put("k", "\(i)") }
        _ = try compact(t, 4)
        let e = kvError { _ = try t.txn(TxnRequest(success: [.range(RangeRequest(key: b("k"), revision: 3))])) }
        #expect(e == .compacted)
    }
}
