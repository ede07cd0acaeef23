import Bolt
import Foundation
import Testing
@testable import MVCC

/// A store exported as an etcd backend file and imported into a fresh
/// store holds the same history: every revision, tombstones, the compaction
/// point, leases, long keys, large values.
@Suite struct EtcdImportTests {
    /// Exports `t`'s store and imports the file into a new store.
    static func roundTrip(_ t: TempStore) throws -> (MVCCStore, EtcdImportResult, String) {
        let file = try EtcdExportTests.export(t)
        let dir = NSTemporaryDirectory() + "import-test-" + UUID().uuidString
        let result = try MVCCStore.importEtcdBackend(try BoltReader(BoltBytes(file)), into: dir)
        return (try MVCCStore(path: dir), result, dir)
    }

    /// Every change of the store with its revision, through the history API.
    static func history(_ store: MVCCStore) throws -> [Event] {
        let from = max(store.compactRevision, 1)
        return try store.events(fromRevision: from, key: [0], rangeEnd: [0]).events
    }

    @Test func historyLeasesAndCompactionSurvive() throws {
        let t = try TempStore()
        let long = String(repeating: "L", count: 700)
        for i in 0..<300 { try t.put("k\(i % 40)", "v\(i)") }
        try t.put(long + "a", "long-a")
        try t.put(long + "b", String(repeating: "x", count: 300_000))
        try t.delete("k1")
        t.leases.insert(77)
        _ = t.apply([.leaseGrant(StoredLease(id: 77, ttlSeconds: 60, remainingTTLSeconds: 12))])
        try t.put("leased1", "a", lease: 77)
        try t.put("leased2", "b", lease: 77)
        _ = try t.write(.compact(CompactionRequest(revision: 150)))
        t.store.compactor.wait(for: 150)
        try t.delete("k2", "k3")
        try t.put(long + "a", "long-a2")

        let (imported, result, dir) = try Self.roundTrip(t)
        defer { imported.close(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.revision == t.store.currentRevision)
        #expect(imported.currentRevision == t.store.currentRevision)
        #expect(imported.compactRevision == 150)
        #expect(try Self.history(imported) == (try Self.history(t.store)))
        #expect(try imported.hashKV(revision: 0) == (try t.store.hashKV(revision: 0)))
        #expect(try imported.hashKV(revision: 200) == (try t.store.hashKV(revision: 200)))
        #expect(try imported.leases() == [StoredLease(id: 77, ttlSeconds: 60, remainingTTLSeconds: 12)])
        #expect(try imported.leasedKeys().map(\.key).sorted { $0.lexicographicallyPrecedes($1) } == [b("leased1"), b("leased2")])
        let r = try imported.range(RangeRequest(key: b(long), rangeEnd: b(long + "z")))
        #expect(r.kvs.map(\.value.count) == [7, 300_000])
        // The imported store takes writes at the next revision.
        var batch: [(index: UInt64, request: WriteRequest)] = [(imported.consistentIndex + 1, .put(PutRequest(key: b("after"), value: b("x"))))]
        _ = imported.apply(batch: batch, leaseExists: { _ in false })
        batch.removeAll()
        #expect(imported.currentRevision == t.store.currentRevision + 1)
    }

    @Test func aLaggingPhysicalCompactionIsExportedAsFinished() throws {
        var o = MVCCStore.Options()
        o.compactionChunkKeys = 1
        let t = try TempStore(options: o)
        for i in 0..<50 { try t.put("k\(i % 5)", "v\(i)") }
        t.store.compactor.stop()  // nothing gets removed
        _ = try t.write(.compact(CompactionRequest(revision: 40)))
        let before = try t.store.hashKV(revision: 0)
        #expect(try t.store.recordCount() == 50)
        let (imported, _, dir) = try Self.roundTrip(t)
        defer { imported.close(); try? FileManager.default.removeItem(atPath: dir) }
        // Records compaction drops are gone; the hash (which already ignores them) agrees.
        #expect(try imported.recordCount() == 5 + 11)
        #expect(try imported.hashKV(revision: 0).hash == before.hash)
    }

    @Test func refusesANonEtcdFileAndAnExistingStore() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let dir = NSTemporaryDirectory() + "import-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A bbolt file without etcd's buckets.
        var planner = try BoltFileWriter(planning: [b("other")])
        var none: [UInt8] = []
        try planner.beginBucket(b("other"))
        try planner.endBucket(out: &none)
        var file: [UInt8] = []
        var writer = try BoltFileWriter(writing: try planner.finish(), out: &file)
        try writer.beginBucket(b("other"))
        try writer.endBucket(out: &file)
        #expect(throws: BoltReadError.self) { try MVCCStore.importEtcdBackend(try BoltReader(BoltBytes(file)), into: dir) }
        // Into a dir that already holds data.
        let exported = try EtcdExportTests.export(t)
        #expect(throws: MVCCError.self) {
            try MVCCStore.importEtcdBackend(try BoltReader(BoltBytes(exported)), into: t.dir)
        }
    }

    /// A minimal etcd backend file: one change in `key`, an empty `meta`,
    /// and `authEnabled` in `auth` set to `flag`.
    static func fileWithAuth(_ flag: UInt8) throws -> [UInt8] {
        let buckets: [([UInt8], [([UInt8], [UInt8])])] = [
            (EtcdSchema.authBucket, [(EtcdSchema.authEnabledKey, [flag]), (EtcdSchema.authRevisionKey, EtcdSchema.uint64BE(3))]),
            (EtcdSchema.keyBucket, [(EtcdSchema.revisionKey(main: 2, sub: 0, tombstone: false),
                                     EtcdProto.encode(KeyValue(key: b("k"), createRevision: 2, modRevision: 2, version: 1, value: b("v"))))]),
            (EtcdSchema.metaBucket, []),
        ]
        var planner = try BoltFileWriter(planning: buckets.map(\.0))
        var none: [UInt8] = []
        for (name, entries) in buckets {
            try planner.beginBucket(name)
            for (k, v) in entries { try k.withUnsafeBytes { try planner.add(key: $0, value: nil, valueBytes: v.count, out: &none) } }
            try planner.endBucket(out: &none)
        }
        var file: [UInt8] = []
        var writer = try BoltFileWriter(writing: try planner.finish(), out: &file)
        for (name, entries) in buckets {
            try writer.beginBucket(name)
            for (k, v) in entries { try writer.add(key: k, value: v, out: &file) }
            try writer.endBucket(out: &file)
        }
        return file
    }

    /// The auth buckets import raw, auth on or off: the auth store loads
    /// them at start and enforces them.
    @Test func authBucketsImportRaw() throws {
        for flag: UInt8 in [1, 0] {
            let dir = NSTemporaryDirectory() + "import-test-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let result = try MVCCStore.importEtcdBackend(try BoltReader(BoltBytes(try Self.fileWithAuth(flag))), into: dir)
            #expect(result.changes == 1 && result.rawEntries == 2 && result.revision == 2)
        }
    }

    @Test func aBumpedRevisionTravelsAsEtcdutlsMarker() throws {
        let t = try TempStore()
        try t.put("a", "1")
        try t.put("b", "2")
        t.store.close()
        try MVCCStore.prepareRestored(dir: t.dir, consistentIndex: 1, bumpRevision: 1000, markCompacted: true)
        try t.reopen()
        #expect(t.store.currentRevision == 1003)
        let file = try EtcdExportTests.export(t)
        // Marked compacted at the bumped revision: no marker needed, etcd restores max(last, compaction).
        let status = try SnapshotFileStatus.etcdBackend(try BoltReader(BoltBytes(file)))
        #expect(status.revision == 3)
        let (imported, result, dir) = try Self.roundTrip(t)
        defer { imported.close(); try? FileManager.default.removeItem(atPath: dir) }
        #expect(result.revision == 1003 && imported.currentRevision == 1003 && imported.compactRevision == 1003)

        // Bumped without the compaction mark (as an older restore could leave it): the marker carries it.
        let u = try TempStore()
        try u.put("a", "1")
        u.store.close()
        try MVCCStore.prepareRestored(dir: u.dir, consistentIndex: 1, bumpRevision: 50)
        try u.reopen()
        let marked = try EtcdExportTests.export(u)
        #expect(try SnapshotFileStatus.etcdBackend(try BoltReader(BoltBytes(marked))).revision == 52)
        let keys = try EtcdExportTests.buckets(marked)["key"]!
        #expect(keys.count == 2 && keys.last!.1.isEmpty)
        let (again, r2, dir2) = try Self.roundTrip(u)
        defer { again.close(); try? FileManager.default.removeItem(atPath: dir2) }
        #expect(r2.revision == 52 && r2.changes == 1 && again.currentRevision == 52)
        #expect(try again.range(RangeRequest(key: b("a"))).kvs.map(\.value) == [b("1")])
    }
}
