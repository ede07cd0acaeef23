import Bolt
import Foundation
import Testing
@testable import MVCC

/// etcd files damaged at random (seeded) never crash `snapshot status` or
/// an import: each either works or fails with an error naming the file.
@Suite struct EtcdCorruptionTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../BoltTests/testdata/etcd-3.5.1-small.db")

    @Test func statusAndImportOfDamagedFiles() throws {
        let base = try [UInt8](Data(contentsOf: Self.fixture))
        // The intact file: what etcdutl 3.5.1 prints for it.
        let intact = try SnapshotFileStatus.etcdBackend(try BoltReader(BoltBytes(base)))
        #expect(intact == SnapshotFileStatus(hash: 1_570_223_557, revision: 7, totalKey: 15, totalSize: 20480))
        var refused = 0
        for seed in UInt64(1)...600 {
            var rng = SeededRandom(seed: seed)
            var bytes = base
            for _ in 0..<(1 + rng.next() % 4) {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                _ = try SnapshotFileStatus.etcdBackend(try BoltReader(BoltBytes(bytes, name: "damaged.db")))
            } catch let e as BoltReadError {
                #expect(e.file == "damaged.db")
                refused += 1
            } catch {
                Issue.record("seed \(seed): status threw \(error)")
            }
            guard seed % 6 == 0 else { continue }  // imports write a store: fewer of them
            let dir = NSTemporaryDirectory() + "import-fuzz-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: dir) }
            do {
                _ = try MVCCStore.importEtcdBackend(try BoltReader(BoltBytes(bytes, name: "damaged.db")), into: dir)
            } catch is BoltReadError {
            } catch let e as MVCCError where !e.isStoreFailure {
            } catch {
                Issue.record("seed \(seed): import threw \(error)")
            }
        }
        #expect(refused > 20)  // most of the file is zero padding, where damage is harmless
    }

    @Test func keyValueDecoderTakesAnyBytes() throws {
        var rng = SeededRandom(seed: 42)
        let valid = EtcdProto.encode(KeyValue(key: b("k"), createRevision: 2, modRevision: 3, version: 1, value: b("v"), lease: 9))
        #expect(try valid.withUnsafeBytes { try EtcdProto.decodeKeyValue($0) } ==
                KeyValue(key: b("k"), createRevision: 2, modRevision: 3, version: 1, value: b("v"), lease: 9))
        for _ in 0..<20000 {
            var bytes = rng.next() % 2 == 0 ? valid : []
            for _ in 0..<(rng.next() % 24) { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            if !bytes.isEmpty && rng.next() % 2 == 0 { bytes[Int(rng.next() % UInt64(bytes.count))] = 0xFF }
            _ = try? bytes.withUnsafeBytes { try EtcdProto.decodeKeyValue($0) }
            _ = try? bytes.withUnsafeBytes { try EtcdProto.decodeLease($0) }
            _ = try? bytes.withUnsafeBytes { try EtcdProto.decodeAlarm($0) }
        }
    }

    @Test func encodedSizeIsWhatEncodingWrites() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<5000 {
            func edge() -> Int64 {
                let edges: [Int64] = [0, 1, -1, 127, 128, 16383, 16384, .max, .min, Int64(truncatingIfNeeded: rng.next())]
                return edges[Int(rng.next() % UInt64(edges.count))]
            }
            let kv = KeyValue(key: [UInt8](repeating: 1, count: Int(rng.next() % 300)), createRevision: edge(), modRevision: edge(),
                              version: edge(), value: [UInt8](repeating: 2, count: Int(rng.next() % 20000)), lease: edge())
            #expect(EtcdProto.encode(kv).count == EtcdProto.keyValueSize(keyBytes: kv.key.count, valueBytes: kv.value.count,
                                                                       create: kv.createRevision, mod: kv.modRevision,
                                                                       version: kv.version, lease: kv.lease))
        }
    }
}
