import Bolt
import CLMDB
import Foundation
import Testing
@testable import MVCC

/// `liveKeyCount` (etcd_debugging_mvcc_keys_total) is kept by every write
/// instead of counted per scrape: it must equal a count of the live keys
/// through every kind of change, a restart, a store without the count, and
/// an import.
@Suite struct LiveKeyCountTests {
    /// The ground truth: a count-only range over every key.
    func counted(_ t: TempStore) throws -> Int64 {
        try t.store.range(RangeRequest(key: [0], rangeEnd: [0], countOnly: true)).count
    }

    func expectCount(_ t: TempStore, _ n: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(t.store.liveKeyCount == n, sourceLocation: sourceLocation)
        #expect(try counted(t) == n, sourceLocation: sourceLocation)
    }

    @Test func followsPutsDeletesTxnsAndLeaseRevokes() throws {
        let t = try TempStore()
        try expectCount(t, 0)
        try t.put("a", "1")
        try t.put("b", "1")
        try t.put("a", "2")  // an overwrite is not a new key
        try expectCount(t, 2)
        try t.delete("a")
        try t.delete("nothing")
        try expectCount(t, 1)
        try t.put("a", "3")  // a deleted key put again is live again
        let long = String(repeating: "k", count: 600)  // a hashed index key
        try t.put(long, "v")
        try expectCount(t, 3)
        // A txn putting one key and deleting another, and a nested txn.
        _ = try t.txn(TxnRequest(success: [.put(PutRequest(key: b("c"), value: b("1"))),
                                           .deleteRange(DeleteRangeRequest(key: b("b"))),
                                           .txn(TxnRequest(success: [.put(PutRequest(key: b("d"), value: b("1")))]))]))
        try expectCount(t, 4)  // a, long, c, d
        // A failing request in a batch changes nothing.
        t.apply([.put(PutRequest(key: b("x"), value: b("1"), lease: 99)),
                 .deleteRange(DeleteRangeRequest(key: b("a"), rangeEnd: b("b")))])
        try expectCount(t, 3)
        t.leases = [7]
        try t.put("leased1", "v", lease: 7)
        try t.put("leased2", "v", lease: 7)
        try expectCount(t, 5)
        _ = try t.write(.leaseRevoke(id: 7, keys: [b("leased1"), b("leased2")]))
        try expectCount(t, 3)
        try t.delete("\0", "\0")
        try expectCount(t, 0)
    }

    @Test func survivesCompactionAndRestart() throws {
        let t = try TempStore()
        for i in 0..<20 { try t.put("k\(i)", "v") }
        for i in 0..<5 { try t.delete("k\(i)") }
        for i in 5..<10 { try t.put("k\(i)", "again") }
        _ = try t.write(.compact(CompactionRequest(revision: t.store.currentRevision)))
        t.store.waitForCompaction(t.store.currentRevision - 1)
        try expectCount(t, 15)
        try t.reopen()
        try expectCount(t, 15)
        try t.put("new", "v")
        try expectCount(t, 16)
    }

    /// A store written before the count was kept has no `liveKeys` meta
    /// entry: opening it counts once and stores the count.
    @Test func storeWithoutTheCountIsCountedAtOpen() throws {
        let t = try TempStore()
        for i in 0..<12 { try t.put("k\(i)", "v") }
        try t.delete("k0", "k2")  // k0, k1, k10, k11
        let want = try counted(t)
        t.store.envGate.exclusive {
            var txn: OpaquePointer?
            #expect(mdb_txn_begin(t.store.env, nil, 0, &txn) == 0)
            var name = MetaKey.liveKeys.rawValue
            let deleted = name.withUTF8 { n in (try? LMDB.del(txn!, t.store.dbs.meta, UnsafeRawBufferPointer(n), nil)) ?? false }
            #expect(deleted)
            #expect(mdb_txn_commit(txn) == 0)
        }
        try t.reopen()
        try expectCount(t, want)
        try t.reopen()
        try expectCount(t, want)
    }

    @Test func importedStoreHasTheCount() throws {
        let t = try TempStore()
        for i in 0..<9 { try t.put("k\(i)", "v") }
        try t.delete("k3")
        let exported = try EtcdExportTests.export(t)
        let dir = t.dir + "-imported"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try MVCCStore.importEtcdBackend(try BoltReader(BoltBytes(exported)), into: dir)
        let imported = try MVCCStore(path: dir, mapSizeBytes: 1 << 30)
        defer { imported.close() }
        #expect(imported.liveKeyCount == 8)
    }
}
