import Foundation
import Testing
@testable import MVCC
@testable import Server

/// HashKV must equal etcd's for the same history: the expected values were
/// read from real etcd 3.4.23 (`etcdctl endpoint hashkv`) after the same
/// requests.
@Suite struct HashTests {
    private func etcdHistory(_ t: TempStore) throws {
        for i in 1...10 { try t.put("k\(i)", "v\(i)") }
        try t.put("k1", "again")
        try t.delete("k2")
        _ = try t.txn(TxnRequest(success: [.put(PutRequest(key: b("t1"), value: b("a"))),
                                           .put(PutRequest(key: b("t2"), value: b("b")))]))
    }

    @Test func hashKVMatchesEtcd() throws {
        let t = try TempStore()
        try etcdHistory(t)
        #expect(try t.store.hashKV(revision: 0) == KVHash(hash: 2_973_300_925, currentRevision: 14, compactRevision: -1, hashRevision: 14))
        #expect(try t.store.hashKV(revision: 5).hash == 2_481_320_837)

        _ = try t.write(.compact(CompactionRequest(revision: 8)))
        try t.put("k3", "z")
        try t.delete("k4")
        t.store.waitForCompaction(8)
        #expect(try t.store.hashKV(revision: 0).hash == 1_079_001_044)
        #expect(try t.store.hashKV(revision: 10).hash == 258_605_079)
        #expect(try t.store.hashKV(revision: 0).compactRevision == 8)
    }

    @Test func hashKVIsTheSameBeforeAndAfterPhysicalCompaction() throws {
        var slow = MVCCStore.Options()
        slow.compactionChunkKeys = 1
        let a = try TempStore(), b2 = try TempStore(options: slow)
        for t in [a, b2] {
            for i in 0..<50 { try t.put("key\(i % 7)", "value\(i)") }
            try t.delete("key3")
        }
        _ = try a.write(.compact(CompactionRequest(revision: 30)))
        a.store.waitForCompaction(30)
        // b2: the same compaction, hashed the moment it is scheduled.
        _ = try b2.write(.compact(CompactionRequest(revision: 30)))
        let early = try b2.store.hashKV(revision: 0)
        b2.store.waitForCompaction(30)
        #expect(early == (try a.store.hashKV(revision: 0)))
        #expect(try b2.store.hashKV(revision: 0) == (try a.store.hashKV(revision: 0)))
        #expect(try a.store.hashKV(revision: 40) == (try b2.store.hashKV(revision: 40)))
    }

    @Test func hashKVRefusesCompactedAndFutureRevisions() throws {
        let t = try TempStore()
        for i in 0..<5 { try t.put("k", "\(i)") }
        _ = try t.write(.compact(CompactionRequest(revision: 3)))
        #expect(kvError { _ = try t.store.hashKV(revision: 3) } == .compacted)
        #expect(kvError { _ = try t.store.hashKV(revision: 99) } == .futureRevision)
        #expect(kvError { _ = try t.store.hashKV(revision: 4) } == nil)
    }

    @Test func hashesSurviveReopen() throws {
        let t = try TempStore()
        try etcdHistory(t)
        let kv = try t.store.hashKV(revision: 0), all = try t.store.hashAll()
        try t.reopen()
        #expect(try t.store.hashKV(revision: 0) == kv)
        #expect(try t.store.hashAll() == all)
        try t.put("x", "y")
        #expect(try t.store.hashAll().hash != all.hash)
    }
}
