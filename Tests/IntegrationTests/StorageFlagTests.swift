import Foundation
import Testing

/// Flags that decide how the member keeps its files: `--wal-dir`,
/// `--unsafe-no-fsync`, `--backend-batch-limit`, `--backend-batch-interval`,
/// `--experimental-bootstrap-defrag-threshold-megabytes`, `--max-snapshots`.
@Suite("Storage flags", .serialized)
struct StorageFlagTests {
    /// Writes 20 MB of values, deletes them and compacts physically: the
    /// store file keeps the space, defragmentation can give it back.
    static func fragment(_ server: ServerProcess) throws {
        let value = String(repeating: "x", count: 512 * 1024)
        for i in 0..<40 { #expect(try etcdctl(server.endpoint, ["put", "big/\(i)"], stdin: value).exitCode == 0) }
        #expect(try etcdctl(server.endpoint, ["del", "big/", "--prefix"]).exitCode == 0)
        let rev = try MetricsTests.scrape(server.clientURL).value("etcd_debugging_mvcc_current_revision")
        #expect(try etcdctl(server.endpoint, ["compact", String(Int(rev)), "--physical"]).exitCode == 0)
    }

    /// Size of the member's store file (LMDB data.mdb).
    static func storeSize(_ server: ServerProcess) -> Int64 {
        let db = server.dataDir + "/member/snap/db/data.mdb"
        return ((try? FileManager.default.attributesOfItem(atPath: db))?[.size] as? Int64) ?? 0
    }

    static func files(_ dir: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(suffix) }
    }

    /// `--wal-dir`: the WAL lives there (its own disk), not in the data dir,
    /// and a restart with the same flags finds everything.
    @Test func walDirKeepsTheWALApart() throws {
        let walDir = NSTemporaryDirectory() + "swift-etcd-waldir-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: walDir) }
        let server = try ServerProcess(extraArgs: ["--wal-dir", walDir])
        try server.start()
        defer { server.stop(); server.removeData() }
        for i in 0..<10 { #expect(try etcdctl(server.endpoint, ["put", "k\(i)", "v\(i)"]).exitCode == 0) }
        server.stopTimed(signal: SIGTERM)
        #expect(!Self.files(walDir, suffix: ".wal").isEmpty, "no WAL segment in --wal-dir")
        #expect(!FileManager.default.fileExists(atPath: server.dataDir + "/member/wal"), "a WAL in the data dir too")
        try server.start()
        let get = try etcdctl(server.endpoint, ["get", "k9", "--print-value-only"])
        #expect(get.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "v9", "\(get.stderr) \(server.logTail())")
    }

    /// `--unsafe-no-fsync`: writes are acknowledged without any WAL fsync
    /// (etcd_disk_wal_fsync_duration_seconds stays empty, as etcd's does);
    /// without it every batch is fsynced.
    @Test func unsafeNoFsyncSkipsTheWALFsync() throws {
        for unsafe in [true, false] {
            let server = try ServerProcess(extraArgs: unsafe ? ["--unsafe-no-fsync"] : [])
            try server.start()
            defer { server.stop(); server.removeData() }
            for i in 0..<10 { #expect(try etcdctl(server.endpoint, ["put", "k\(i)", "v"]).exitCode == 0) }
            let fsyncs = try MetricsTests.scrape(server.clientURL).value("etcd_disk_wal_fsync_duration_seconds_count")
            if unsafe { #expect(fsyncs == 0, "\(fsyncs) fsyncs with --unsafe-no-fsync") } else { #expect(fsyncs >= 10) }
        }
    }

    /// `--backend-batch-limit`: at most that many requests per backend
    /// commit. Under 50 concurrent writers Raft hands over batches of many
    /// entries; with a limit of 1 each is its own commit.
    @Test func backendBatchLimitCapsRequestsPerCommit() throws {
        for limit in [1, 0] {
            let server = try ServerProcess(extraArgs: limit > 0 ? ["--backend-batch-limit", "\(limit)"] : [])
            try server.start()
            defer { server.stop(); server.removeData() }
            let writer = try AckWriter(endpoints: server.endpoint, clients: 50, ackPath: server.dataDir + ".acks")
            writer.wait(forAcks: 3000, seconds: 60)
            writer.stop()
            let acks = writer.count
            let commits = try MetricsTests.scrape(server.clientURL).value("etcd_disk_backend_commit_duration_seconds_count")
            if limit == 1 {
                #expect(commits >= Double(acks), "\(commits) commits for \(acks) puts with --backend-batch-limit 1")
            } else {
                #expect(commits < Double(acks), "\(commits) commits for \(acks) puts: no batching?")
            }
        }
    }

    /// `--backend-batch-interval`: the backend is made durable (fsynced) at
    /// least that often; LMDB commits each applied batch at once, so the
    /// interval bounds the time a commit stays only in the page cache.
    @Test func backendBatchIntervalSyncsTheBackendPeriodically() throws {
        for interval in ["100ms", ""] {
            let server = try ServerProcess(extraArgs: interval.isEmpty ? [] : ["--backend-batch-interval", interval])
            try server.start()
            defer { server.stop(); server.removeData() }
            #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0)
            let before = try MetricsTests.scrape(server.clientURL).value("swift_etcd_backend_syncs_total")
            if interval.isEmpty {
                usleep(1_200_000)
                let after = try MetricsTests.scrape(server.clientURL).value("swift_etcd_backend_syncs_total")
                #expect(after == before, "synced without a batch interval")
            } else {
                // Syncs keep coming with no write at all; how many per second
                // depends on the machine's load, so no rate is asserted.
                var after = before
                #expect(try eventually {
                    after = try MetricsTests.scrape(server.clientURL).value("swift_etcd_backend_syncs_total")
                    return after - before >= 5
                }, "\(after - before) syncs at 100ms")
            }
        }
    }

    /// `--experimental-bootstrap-defrag-threshold-megabytes`: a restart
    /// defragments the store when that would free at least the threshold,
    /// and says it skipped otherwise.
    @Test func bootstrapDefragThresholdDefragmentsAtStart() throws {
        let server = try ServerProcess()
        try server.start()
        defer { server.stop(); server.removeData() }
        try Self.fragment(server)
        server.stopTimed(signal: SIGTERM)
        func size() -> Int64 { Self.storeSize(server) }
        let fragmented = size()

        let skipping = try ServerProcess(extraArgs: ["--experimental-bootstrap-defrag-threshold-megabytes", "100000"],
                                         dataDir: server.dataDir, clientPort: server.clientPort, peerPort: server.peerPort)
        try skipping.start()
        skipping.stopTimed(signal: SIGTERM)
        #expect(skipping.log.contains("\"msg\":\"Skipping defragmentation\""), "\(skipping.logTail())")
        #expect(size() == fragmented)

        let defragging = try ServerProcess(extraArgs: ["--experimental-bootstrap-defrag-threshold-megabytes", "1"],
                                           dataDir: server.dataDir, clientPort: server.clientPort, peerPort: server.peerPort)
        try defragging.start()
        defer { defragging.stop() }
        #expect(defragging.log.contains("\"msg\":\"finished defragmenting directory\""), "\(defragging.logTail())")
        #expect(size() < fragmented / 2, "\(size()) bytes after, \(fragmented) before")
        #expect(try etcdctl(defragging.endpoint, ["put", "after", "defrag"]).exitCode == 0)
    }

    /// `--max-snapshots`: Raft snapshot files beyond the newest N are removed
    /// (etcd's default keeps 5).
    @Test func maxSnapshotsBoundsTheSnapshotFiles() throws {
        for (maxSnapshots, atMost) in [("2", 2), ("5", 5)] {
            let server = try ServerProcess(extraArgs: ["--snapshot-count", "10", "--max-snapshots", maxSnapshots])
            try server.start()
            defer { server.stop(); server.removeData() }
            let writer = try AckWriter(endpoints: server.endpoint, clients: 4, ackPath: server.dataDir + ".acks")
            writer.wait(forAcks: 200, seconds: 60)
            writer.stop()
            usleep(300_000)
            let snaps = Self.files(server.dataDir + "/member/snap", suffix: ".snap")
            #expect(snaps.count == atMost, "--max-snapshots \(maxSnapshots): \(snaps.count) files")
        }
    }
}
