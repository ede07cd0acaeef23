import Bolt
import Foundation
import Testing
@testable import MVCC
@testable import Server

/// The store streamed as an etcd backend file, read back with our bbolt reader.
@Suite struct EtcdExportTests {
    /// The whole file `exporter` streams, in pieces of about `piece` bytes.
    static func stream(_ exporter: EtcdSnapshotExporter, piece: Int = 32 << 10) throws -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try exporter.next(minBytes: piece) { out += chunk }
        return out
    }

    static func export(_ t: TempStore, extras: EtcdBackendExtras = EtcdBackendExtras()) throws -> [UInt8] {
        let view = try t.store.openReadView()
        defer { view.close() }
        let exporter = try EtcdSnapshotExporter(view: view, extras: extras)
        let bytes = try stream(exporter)
        #expect(Int64(bytes.count) == exporter.sizeBytes)
        return bytes
    }

    /// bucket name → entries, from a file.
    static func buckets(_ file: [UInt8]) throws -> [String: [([UInt8], [UInt8])]] {
        let reader = try BoltReader(BoltBytes(file))
        var out: [String: [([UInt8], [UInt8])]] = [:]
        for bucket in try reader.buckets() {
            var entries: [([UInt8], [UInt8])] = []
            try reader.forEach(bucket) { k, v, _, _ in entries.append((Array(k), Array(v))) }
            out[String(decoding: bucket.name, as: UTF8.self)] = entries
        }
        return out
    }

    @Test func keyBucketHoldsEveryRevisionAsEtcdDoes() throws {
        let t = try TempStore()
        try t.put("a", "1")          // rev 2
        try t.put("b", "2")          // rev 3
        try t.put("a", "3")          // rev 4
        try t.delete("b")            // rev 5
        let file = try Self.export(t)
        let b = try Self.buckets(file)
        #expect(Set(b.keys) == Set(EtcdSchema.allBuckets.map { String(decoding: $0, as: UTF8.self) }))
        let keys = b["key"]!
        // The bytes etcd 3.5.1 wrote for the same history.
        let hex = keys.map { (Self.hex($0.0), Self.hex($0.1)) }
        #expect(hex.map(\.0) == ["00000000000000025f0000000000000000", "00000000000000035f0000000000000000",
                                 "00000000000000045f0000000000000000", "00000000000000055f000000000000000074"])
        #expect(hex.map(\.1) == ["0a01611002180220012a0131", "0a01621003180320012a0132",
                                 "0a01611002180420022a0133", "0a0162"])
        let meta = Dictionary(uniqueKeysWithValues: b["meta"]!.map { (String(decoding: $0.0, as: UTF8.self), $0.1) })
        #expect(meta["consistent_index"] == EtcdSchema.uint64BE(t.store.consistentIndex))
        #expect(meta["scheduledCompactRev"] == nil)
        #expect(b["auth"]!.map { Self.hex($0.0) + "=" + Self.hex($0.1) } == ["617574685265766973696f6e=0000000000000001"])
    }

    @Test func compactionAndLeasesAsEtcdWritesThem() throws {
        let t = try TempStore()
        try t.put("a", "1")          // rev 2
        try t.put("b", "2")          // rev 3
        try t.put("a", "3")          // rev 4
        try t.delete("b")            // rev 5
        t.leases.insert(0x390da246d1ab9f09)
        _ = t.apply([.leaseGrant(StoredLease(id: 0x390da246d1ab9f09, ttlSeconds: 100))])
        try t.put("c", "4", lease: 0x390da246d1ab9f09)  // rev 6
        _ = try t.write(.compact(CompactionRequest(revision: 3)))
        try t.put("d", "5")          // rev 7
        var extras = EtcdBackendExtras()
        extras.term = 2
        extras.voters = [13668033151171901709]
        extras.members = [EtcdMember(id: 13668033151171901709, name: "m1", peerURLs: ["http://127.0.0.1:23801"], isLearner: false)]
        let b = try Self.buckets(try Self.export(t, extras: extras))
        // What etcd 3.5.1 holds after the same requests.
        #expect(b["key"]!.map { Self.hex($0.1) } == ["0a01611002180220012a0131", "0a01621003180320012a0132",
                                                    "0a01611002180420022a0133", "0a0162",
                                                    "0a01631006180620012a01343089beae8dedc8e88639",
                                                    "0a01641007180720012a0135"])
        #expect(b["lease"]!.map { Self.hex($0.0) + "=" + Self.hex($0.1) } == ["390da246d1ab9f09=0889beae8dedc8e886391064"])
        #expect(b["members"]!.map { Self.hex($0.0) + "=" + Self.hex($0.1) } ==
                ["62646165396262633131646433393064=7b226964223a31333636383033333135313137313930313730392c227065657255524c73223a5b22687474703a2f2f3132372e302e302e313a3233383031225d2c226e616d65223a226d31227d"])
        let meta = b["meta"]!.map { String(decoding: $0.0, as: UTF8.self) + "=" + Self.hex($0.1) }
        #expect(meta.contains("confState=7b22766f74657273223a5b31333636383033333135313137313930313730395d2c226175746f5f6c65617665223a66616c73657d"))
        #expect(meta.contains("finishedCompactRev=00000000000000035f0000000000000000"))
        #expect(meta.contains("scheduledCompactRev=00000000000000035f0000000000000000"))
        #expect(meta.contains("term=0000000000000002"))
    }

    /// etcd writes `clusterVersion` only once the leader set it: a store
    /// with none recorded and no fallback gives a file without the key.
    @Test func clusterVersionOnlyWhenOneIsKnown() throws {
        let t = try TempStore()
        try t.put("a", "1")
        func clusterKeys(_ extras: EtcdBackendExtras) throws -> [String] {
            let b = try Self.buckets(try Self.export(t, extras: extras))
            return (b["cluster"] ?? []).map { String(decoding: $0.0, as: UTF8.self) }
        }
        var undecided = EtcdBackendExtras()
        undecided.clusterVersion = nil
        #expect(try clusterKeys(undecided) == [])
        let b = try Self.buckets(try Self.export(t, extras: EtcdBackendExtras()))
        #expect(b["cluster"]!.map { String(decoding: $0.0, as: UTF8.self) + "=" + String(decoding: $0.1, as: UTF8.self) }
                == ["clusterVersion=3.5.0"])
    }

    @Test func viewKeepsItsRevisionWhileWritesGoOn() throws {
        let t = try TempStore()
        for i in 0..<2000 { try t.put("k\(i)", String(repeating: "v", count: i % 50)) }
        let view = try t.store.openReadView()
        let exporter = try EtcdSnapshotExporter(view: view, extras: EtcdBackendExtras())
        var file = try exporter.next(minBytes: 4096)!
        for i in 0..<2000 { try t.put("k\(i)", "changed") }
        try t.delete("k", "l")
        while let chunk = try exporter.next(minBytes: 4096) { file += chunk }
        view.close()
        let keys = try Self.buckets(file)["key"]!
        #expect(keys.count == 2000)
        #expect(Int64(file.count) == exporter.sizeBytes)
    }

    @Test func closingTheStoreEndsAnOpenView() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let view = try t.store.openReadView()
        let exporter = try EtcdSnapshotExporter(view: view, extras: EtcdBackendExtras())
        t.store.close()
        #expect(kvError { _ = try exporter.next(minBytes: 1) }?.code == .unavailable)
        view.close()
    }

    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
}
