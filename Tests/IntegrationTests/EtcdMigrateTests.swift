import Foundation
import Testing

/// `swift-etcd migrate`: a stopped etcd member's data dir becomes a
/// swift-etcd data dir holding everything the member acknowledged,
/// including writes that only its WAL has.
@Suite(.serialized) struct EtcdMigrateTests {
    private func migrate(_ etcdDir: String, into member: ServerProcess) throws -> CommandResult {
        try EtcdTools.swiftEtcd(["migrate", "--from-etcd-data-dir", etcdDir] + EtcdTools.restoreFlags(member, token: "migrated"))
    }

    @Test func writesOnlyInTheWALOfAKilledEtcd35AreKept() throws {
        // etcd commits its backend only every hour here: what follows the
        // compaction (which commits) is in the WAL alone when it is killed.
        let etcd = try ServerProcess(binary: try EtcdTools.etcd35, name: "etcd",
                                     extraArgs: ["--backend-batch-interval=1h", "--backend-batch-limit=10000000"])
        defer { etcd.stop(); etcd.removeData() }
        try etcd.start()
        _ = try EtcdTools.history(etcd.endpoint, ["-mode", "write", "-keys", "20000"])
        _ = try EtcdTools.history(etcd.endpoint, ["-mode", "write-more", "-keys", "300"])
        let dump = try EtcdTools.history(etcd.endpoint, ["-mode", "dump"])

        // A running member's data dir is refused.
        let refused = try ServerProcess(name: "refused")
        defer { refused.removeData() }
        let busy = try migrate(etcd.dataDir, into: refused)
        #expect(busy.exitCode == 1)
        #expect(busy.stderr.contains("locked by another process"), "\(busy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: refused.dataDir))

        etcd.stop(signal: SIGKILL)
        // The backend file really is behind: it lacks the last writes.
        let db = try ProcessRunner.run(try EtcdTools.etcdutl35, ["snapshot", "status", etcd.dataDir + "/member/snap/db", "-w", "json"])
        let dbRevision = ((try JSONSerialization.jsonObject(with: Data(db.stdout.utf8)) as? [String: Any])?["revision"] as? Int) ?? 0
        let dumpRevision = Int(dump.split(separator: "\n").first?.split(separator: " ").last ?? "") ?? 0
        #expect(dbRevision > 0 && dbRevision < dumpRevision, "db at \(dbRevision), served \(dumpRevision)")

        let member = try ServerProcess(name: "migrated")
        defer { member.stop(); member.removeData() }
        let r = try migrate(etcd.dataDir, into: member)
        #expect(r.exitCode == 0, "\(r.stderr)")
        try member.start()
        let got = try EtcdTools.history(member.endpoint, ["-mode", "dump"])
        let difference = EtcdTools.firstDifference(got, dump)
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// etcd's disaster recovery as its docs (and its e2e TestIssue6361) do
    /// it: `etcdctl snapshot restore` builds an etcd data dir, then the
    /// member starts on it. swift-etcd converts the dir at start, keeping
    /// etcd's files beside it, and serves every key at its revision.
    @Test func startingOnADirRestoredByEtcdctlConvertsIt() throws {
        let source = try ServerProcess(name: "source")
        defer { source.stop(); source.removeData() }
        try source.start()
        _ = try EtcdTools.history(source.endpoint, ["-mode", "write", "-keys", "500"])
        let dump = try EtcdTools.history(source.endpoint, ["-mode", "dump"])
        let file = source.dataDir + ".snap.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try etcdctl(source.endpoint, ["snapshot", "save", file]).exitCode == 0)
        source.stop(signal: SIGTERM)

        let member = try ServerProcess(name: "restored")
        let parent = (member.dataDir as NSString).deletingLastPathComponent
        let base = (member.dataDir as NSString).lastPathComponent
        func kept() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).filter { $0.hasPrefix(base + ".etcd-") }
        }
        defer {
            member.stop(); member.removeData()
            for k in kept() { try? FileManager.default.removeItem(atPath: parent + "/" + k) }
        }
        let restore = try ProcessRunner.run("etcdctl", ["snapshot", "restore", file] + EtcdTools.restoreFlags(member, token: "new"),
                                            environment: ["ETCDCTL_API": "3"])
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        try member.start()
        let difference = EtcdTools.firstDifference(try EtcdTools.history(member.endpoint, ["-mode", "dump"]), dump)
        #expect(difference == nil, "\(difference ?? "")")
        #expect(kept().count == 1, "etcd's files kept beside the data dir: \(kept())")
        #expect(member.log.contains("converting it to swift-etcd's"), "\(member.logTail())")
    }

    @Test func aStoppedEtcd34MemberMigrates() throws {
        let etcd = try ServerProcess(binary: EtcdTools.etcd34, name: "etcd34")
        defer { etcd.stop(); etcd.removeData() }
        try etcd.start()
        _ = try EtcdTools.history(etcd.endpoint, ["-mode", "write", "-keys", "5000"])
        let dump = try EtcdTools.history(etcd.endpoint, ["-mode", "dump"])
        etcd.stop(signal: SIGTERM)
        let member = try ServerProcess(name: "migrated")
        defer { member.stop(); member.removeData() }
        let r = try migrate(etcd.dataDir, into: member)
        #expect(r.exitCode == 0, "\(r.stderr)")
        try member.start()
        let difference = EtcdTools.firstDifference(try EtcdTools.history(member.endpoint, ["-mode", "dump"]), dump)
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// Auth changes only in etcd's WAL are refused (migrate does not apply
    /// etcd's auth requests) and create nothing; once in the database (auth
    /// enabled, member stopped), snapshot restore and migrate take them and
    /// the member enforces them.
    @Test func etcdDataWithAuthIsRefused() throws {
        let etcd = try ServerProcess(binary: try EtcdTools.etcd35, name: "etcd-auth",
                                     extraArgs: ["--backend-batch-interval=1h", "--backend-batch-limit=10000000"])
        defer { etcd.stop(); etcd.removeData() }
        try etcd.start()
        #expect(try EtcdTools.ctl(etcd.endpoint, ["put", "k", "v"]).exitCode == 0)
        let add = try EtcdTools.ctl(etcd.endpoint, ["user", "add", "root:rootpw", "--interactive=false"])
        #expect(add.exitCode == 0, "\(add.stderr)")
        etcd.stop(signal: SIGKILL)
        let member = try ServerProcess(name: "migrated")
        defer { member.removeData() }
        let fromWAL = try migrate(etcd.dataDir, into: member)
        #expect(fromWAL.exitCode == 1)
        #expect(fromWAL.stderr.contains("is an auth request (InternalRaftRequest field 1100)"), "\(fromWAL.stderr)")
        #expect(!FileManager.default.fileExists(atPath: member.dataDir))

        try etcd.start()
        let enable = try EtcdTools.ctl(etcd.endpoint, ["auth", "enable"])
        #expect(enable.exitCode == 0, "\(enable.stderr)")
        let file = etcd.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let save = try EtcdTools.ctl(etcd.endpoint, ["--user", "root:rootpw", "snapshot", "save", file])
        #expect(save.exitCode == 0, "\(save.stderr)")
        let restore = try EtcdTools.swiftEtcd(["snapshot", "restore", file] + EtcdTools.restoreFlags(member))
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        member.removeData()
        etcd.stop(signal: SIGTERM)
        let fromDB = try migrate(etcd.dataDir, into: member)
        #expect(fromDB.exitCode == 0, "\(fromDB.stderr)")
        try member.start()
        defer { member.stop() }
        #expect(try EtcdTools.ctl(member.endpoint, ["get", "k"]).stderr.contains("user name is empty"))
        let get = try EtcdTools.ctl(member.endpoint, ["--user", "root:rootpw", "get", "k", "--print-value-only"])
        #expect(get.stdout == "v\n", "\(get.stderr)")
    }

    @Test func notAnEtcdDataDirIsRefused() throws {
        let member = try ServerProcess(name: "x")
        defer { member.removeData() }
        let empty = NSTemporaryDirectory() + "not-etcd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let r = try migrate(empty, into: member)
        #expect(r.exitCode == 1)
        #expect(r.stderr.contains("not an etcd data dir"))
        #expect(!FileManager.default.fileExists(atPath: member.dataDir))
    }
}
