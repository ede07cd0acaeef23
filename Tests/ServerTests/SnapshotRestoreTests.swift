import Config
import Foundation
import Logging
import MVCC
import Raft
import Support
import Testing
import WAL
@testable import Server

/// `swift-etcd snapshot restore` and `status` on files built from a real
/// store (the stream format: database ‖ SHA-256).
@Suite struct SnapshotRestoreTests {
    /// A store with `keys` keys saved as `etcdctl snapshot save` would.
    final class SavedSnapshot {
        let dir = NSTemporaryDirectory() + "restore-test-\(UUID().uuidString)"
        var file: String { dir + "/saved.db" }
        var revision: Int64 = 0

        init(keys: Int = 30) throws {
            let store = try MVCCStore(path: dir + "/store")
            var batch: [(index: UInt64, request: WriteRequest)] = []
            for i in 0..<keys { batch.append((UInt64(i + 1), .put(PutRequest(key: Array("key\(i)".utf8), value: Array("value\(i)".utf8))))) }
            _ = store.apply(batch: batch, leaseExists: { _ in false })
            revision = store.currentRevision
            try store.snapshot(to: dir + "/raw.db")
            store.close()
            var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/raw.db")))
            data += SHA256.digest(data)
            try Data(data).write(to: URL(fileURLWithPath: file))
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func options(dataDir: String, name: String = "m1", port: Int = 2380, token: String = "tok") -> SnapshotRestoreOptions {
        var o = SnapshotRestoreOptions()
        o.name = name
        o.dataDir = dataDir
        o.initialCluster = "\(name)=http://127.0.0.1:\(port)"
        o.initialAdvertisePeerURLs = [try! EtcdURL.parse("http://127.0.0.1:\(port)")]
        o.initialClusterToken = token
        return o
    }

    private let logger = Logger(label: "test")

    @Test func restoreBuildsAStartableDataDir() throws {
        let saved = try SavedSnapshot()
        let dataDir = saved.dir + "/restored"
        let result = try SnapshotRestore(file: saved.file, options: options(dataDir: dataDir), logger: logger).run()
        #expect(result.revision == saved.revision)
        #expect(result.memberID == MemberIdentity.memberID(peerURLs: ["http://127.0.0.1:2380"], clusterToken: "tok"))
        #expect(result.clusterID == MemberIdentity.clusterID(memberIDs: [result.memberID]))

        let layout = DataDirLayout(dataDir: dataDir)
        let store = try MVCCStore(path: layout.dbPath)
        #expect(store.currentRevision == saved.revision)
        #expect(store.consistentIndex == 1)
        #expect(try store.get(Array("key7".utf8))?.value == Array("value7".utf8))
        store.close()

        let markers = try WAL.validSnapshotMarkers(dir: layout.walDir)
        #expect(markers.contains(WALSnapshotMarker(index: 1, term: 1)))
        let opened = try WAL.open(dir: layout.walDir, from: WALSnapshotMarker(index: 1, term: 1))
        #expect(try MemberMetadata(decoding: opened.metadata).memberID == result.memberID)
        #expect(opened.hardState.commit == 1)
        try opened.wal.close()
        let snap = try SnapshotStore(dir: layout.snapDir).loadNewest(validMarkers: markers)
        #expect(snap?.metadata.confState.voters == [result.memberID])
        #expect(!FileManager.default.fileExists(atPath: dataDir + ".restoring-\(getpid())"))
    }

    @Test func restoreForAThreeMemberCluster() throws {
        let saved = try SavedSnapshot(keys: 3)
        var o = options(dataDir: saved.dir + "/m2", name: "m2", port: 2382)
        o.initialCluster = "m1=http://127.0.0.1:2381,m2=http://127.0.0.1:2382,m3=http://127.0.0.1:2383"
        let result = try SnapshotRestore(file: saved.file, options: o, logger: logger).run()
        let store = try MVCCStore(path: DataDirLayout(dataDir: o.dataDir).dbPath)
        #expect(store.consistentIndex == 3)
        store.close()
        let layout = DataDirLayout(dataDir: o.dataDir)
        let snap = try SnapshotStore(dir: layout.snapDir).loadNewest(validMarkers: try WAL.validSnapshotMarkers(dir: layout.walDir))
        #expect(snap?.metadata.index == 3)
        #expect(snap?.metadata.confState.voters.count == 3)
        #expect(snap?.metadata.confState.voters.contains(result.memberID) == true)
        let data = try Data(contentsOf: URL(fileURLWithPath: layout.memberDir + "/members.json"))
        let members = try JSONDecoder().decode([ClusterMember].self, from: data)
        #expect(members.map(\.name).sorted() == ["m1", "m2", "m3"])
        #expect(Set(members.map(\.id)) == Set(snap?.metadata.confState.voters ?? []))
    }

    @Test func refusesAnExistingDataDir() throws {
        let saved = try SavedSnapshot(keys: 1)
        let dataDir = saved.dir + "/existing"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        #expect(throws: RestoreError.self) {
            try SnapshotRestore(file: saved.file, options: options(dataDir: dataDir), logger: logger).run()
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dataDir).isEmpty)
    }

    @Test func corruptOrTruncatedFilesCreateNothing() throws {
        let saved = try SavedSnapshot()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: saved.file)))
        let corrupt = saved.dir + "/corrupt.db", truncated = saved.dir + "/truncated.db"
        bytes[5000] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        try Data(bytes.prefix(bytes.count - 1000)).write(to: URL(fileURLWithPath: truncated))
        for (file, message) in [(corrupt, "expected sha256"), (truncated, "snapshot missing hash")] {
            let dataDir = saved.dir + "/out-\(UUID().uuidString)"
            do {
                _ = try SnapshotRestore(file: file, options: options(dataDir: dataDir), logger: logger).run()
                Issue.record("restore of \(file) succeeded")
            } catch {
                #expect("\(error)".contains(message))
            }
            #expect(!FileManager.default.fileExists(atPath: dataDir))
            #expect(!FileManager.default.fileExists(atPath: dataDir + ".restoring-\(getpid())"))
        }
    }

    @Test func skipHashCheckAcceptsACopiedDatabase() throws {
        let saved = try SavedSnapshot(keys: 4)
        var o = options(dataDir: saved.dir + "/from-raw")
        #expect(throws: RestoreError.self) { try SnapshotRestore(file: saved.dir + "/raw.db", options: o, logger: logger).run() }
        o.skipHashCheck = true
        let result = try SnapshotRestore(file: saved.dir + "/raw.db", options: o, logger: logger).run()
        #expect(result.revision == saved.revision)
    }

    @Test func nameMustMatchTheInitialCluster() throws {
        let saved = try SavedSnapshot(keys: 1)
        var o = options(dataDir: saved.dir + "/x")
        o.initialAdvertisePeerURLs = [try EtcdURL.parse("http://127.0.0.1:9999")]
        #expect(throws: RestoreError.self) { try SnapshotRestore(file: saved.file, options: o, logger: logger).run() }
        o = options(dataDir: saved.dir + "/x")
        o.name = "other"
        #expect(throws: RestoreError.self) { try SnapshotRestore(file: saved.file, options: o, logger: logger).run() }
        #expect(!FileManager.default.fileExists(atPath: saved.dir + "/x"))
    }

    @Test func statusFormatsAsEtcdutl() throws {
        let status = SnapshotStatus(hash: 0xfee6_d709, revision: 16, totalKey: 22, totalSize: 20480)
        #expect(status.formatted("simple") == "fee6d709, 16, 22, 20 kB\n")
        #expect(status.formatted("json") == "{\"hash\":4276541193,\"revision\":16,\"totalKey\":22,\"totalSize\":20480}\n")
        #expect(status.formatted("fields") == "\"Hash\" : 4276541193\n\"Revision\" : 16\n\"Keys\" : 22\n\"Size\" : 20480\n")
        #expect(status.formatted("table") == """
            +----------+----------+------------+------------+
            |   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |
            +----------+----------+------------+------------+
            | fee6d709 |       16 |         22 |      20 kB |
            +----------+----------+------------+------------+

            """)
        #expect(SnapshotStatus.humanBytes(5) == "5 B")
        #expect(SnapshotStatus.humanBytes(2048) == "2.0 kB")
        #expect(SnapshotStatus.humanBytes(24_608) == "25 kB")
        #expect(SnapshotStatus.humanBytes(2_100_000) == "2.1 MB")
    }

    @Test func statusReadsASavedFile() throws {
        let saved = try SavedSnapshot(keys: 12)
        let status = try SnapshotStatus.read(file: saved.file)
        #expect(status.revision == saved.revision)
        #expect(throws: RestoreError.self) { try SnapshotStatus.read(file: saved.dir + "/nope") }
    }
}

extension SnapshotRestoreTests {
    /// A restore killed half-way leaves `<data-dir>.restoring-<pid>`; the
    /// data dir itself never exists, and the next restore cleans up.
    @Test func abandonedBuildIsRemovedByTheNextRestore() throws {
        let saved = try SavedSnapshot(keys: 2)
        let dataDir = saved.dir + "/member-x"
        let abandoned = dataDir + ".restoring-999999"
        try FileManager.default.createDirectory(atPath: abandoned + "/member/snap/db", withIntermediateDirectories: true)
        _ = try SnapshotRestore(file: saved.file, options: options(dataDir: dataDir), logger: logger).run()
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: dataDir + "/member/wal"))
    }
}

extension SnapshotRestoreTests {
    /// A file in etcd's format, as `Maintenance.Snapshot` streams it (with the digest).
    static func etcdFormatFile(keys: Int, dir: String) throws -> (file: String, revision: Int64) {
        let store = try MVCCStore(path: dir + "/source")
        defer { store.close() }
        var batch: [(index: UInt64, request: WriteRequest)] = []
        for i in 0..<keys { batch.append((UInt64(i + 1), .put(PutRequest(key: Array("key\(i)".utf8), value: Array("value\(i)".utf8))))) }
        batch.append((UInt64(keys + 1), .deleteRange(DeleteRangeRequest(key: Array("key1".utf8)))))
        _ = store.apply(batch: batch, leaseExists: { _ in false })
        let view = try store.openReadView()
        defer { view.close() }
        let exporter = try EtcdSnapshotExporter(view: view, extras: EtcdBackendExtras())
        var bytes: [UInt8] = []
        while let piece = try exporter.next(minBytes: 1 << 16) { bytes += piece }
        bytes += SHA256.digest(bytes)
        let file = dir + "/etcd-format.db"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return (file, store.currentRevision)
    }

    @Test func restoresAnEtcdFormatFileAndReadsItsStatus() throws {
        let dir = NSTemporaryDirectory() + "restore-etcd-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (file, revision) = try Self.etcdFormatFile(keys: 50, dir: dir)
        let status = try SnapshotStatus.read(file: file)
        #expect(status.revision == revision)
        #expect(status.totalKey >= 51)
        let result = try SnapshotRestore(file: file, options: options(dataDir: dir + "/restored"), logger: logger).run()
        #expect(result.revision == revision)
        let store = try MVCCStore(path: DataDirLayout(dataDir: dir + "/restored").dbPath)
        defer { store.close() }
        #expect(store.currentRevision == revision)
        #expect(try store.get(Array("key7".utf8))?.value == Array("value7".utf8))
        #expect(try store.get(Array("key1".utf8)) == nil)
        // Damaged: the digest no longer matches, and nothing is left behind.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: file + ".bad"))
        #expect(throws: RestoreError.self) {
            try SnapshotRestore(file: file + ".bad", options: options(dataDir: dir + "/bad"), logger: logger).run()
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad"))
        // Damaged and unchecked: the bbolt reader names the file and offset.
        var o = options(dataDir: dir + "/unchecked")
        o.skipHashCheck = true
        bytes[4096 * 2 + 20] ^= 0xFF  // a page header past the metas
        try Data(bytes).write(to: URL(fileURLWithPath: file + ".bad"))
        do {
            _ = try SnapshotRestore(file: file + ".bad", options: o, logger: logger).run()
        } catch {
            #expect("\(error)".contains(file + ".bad"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/unchecked"))
    }
}

