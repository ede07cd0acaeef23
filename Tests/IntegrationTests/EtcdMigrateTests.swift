import Bolt
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

    /// Auth changes only in etcd's WAL (users, roles, grants, a password
    /// change, a deletion, a write made as root) are replayed: the migrated
    /// member answers etcd's user and role queries and auth status word for
    /// word, and enforces them. (etcd 3.5.1 commits its database on every
    /// auth enable and disable, so those never stay in the WAL alone; they
    /// are done first, and everything after them is in the WAL only.)
    @Test func authChangesOnlyInTheWALOfAKilledEtcd35AreReplayed() throws {
        let etcd = try ServerProcess(binary: try EtcdTools.etcd35, name: "etcd-auth",
                                     extraArgs: ["--backend-batch-interval=1h", "--backend-batch-limit=10000000"])
        defer { etcd.stop(); etcd.removeData() }
        try etcd.start()
        let root = ["--user", "root:rootpw"]
        func ok(_ server: ServerProcess, _ args: [String], stdin: String? = nil) throws -> String {
            let r = try ProcessRunner.run(try EtcdTools.etcdctl35, ["--endpoints", server.endpoint] + args,
                                          environment: ["ETCDCTL_API": "3"], stdin: stdin, timeoutSeconds: 60)
            #expect(r.exitCode == 0, "\(args): \(r.stderr)")
            return r.stdout
        }
        for step in [["put", "k", "v"], ["user", "add", "root:rootpw", "--interactive=false"], ["user", "grant-role", "root", "root"],
                     ["auth", "enable"], root + ["auth", "disable"], ["auth", "enable"]] {
            _ = try ok(etcd, step)
        }
        for step in [["role", "add", "reader"], ["role", "grant-permission", "reader", "read", "k"],
                     ["user", "add", "alice:alicepw", "--interactive=false"], ["user", "grant-role", "alice", "reader"],
                     ["user", "add", "bob:bobpw", "--interactive=false"], ["user", "add", "gone:x", "--interactive=false"],
                     ["user", "delete", "gone"], ["put", "k2", "v2"]] {
            _ = try ok(etcd, root + step)
        }
        _ = try ok(etcd, root + ["user", "passwd", "bob", "--interactive=false"], stdin: "bobpw2\n")
        let queries = [["user", "list"], ["role", "list"], ["user", "get", "alice"], ["role", "get", "reader"], ["auth", "status"]]
        let want = try queries.map { try ok(etcd, root + $0) }
        etcd.stop(signal: SIGKILL)
        // etcd's database has root alone: every later change is in its WAL alone.
        let db = try BoltReader(try BoltFileSource(path: etcd.dataDir + "/member/snap/db"))
        var users: [String] = []
        if let bucket = try db.bucket(named: Array("authUsers".utf8)) {
            try db.forEach(bucket) { k, _, _, _ in users.append(String(decoding: k, as: UTF8.self)) }
        }
        #expect(users == ["root"])

        let member = try ServerProcess(name: "migrated")
        defer { member.stop(); member.removeData() }
        let r = try migrate(etcd.dataDir, into: member)
        #expect(r.exitCode == 0, "\(r.stderr)")
        try member.start()
        for (query, answer) in zip(queries, want) { #expect(try ok(member, root + query) == answer, "\(query)") }
        #expect(try EtcdTools.ctl(member.endpoint, ["get", "k"]).stderr.contains("user name is empty"))
        #expect(try ok(member, ["--user", "alice:alicepw", "get", "k", "--print-value-only"]) == "v\n")
        #expect(try EtcdTools.ctl(member.endpoint, ["--user", "alice:alicepw", "put", "k", "x"]).stderr.contains("permission denied"))
        #expect(try EtcdTools.ctl(member.endpoint, ["--user", "bob:bobpw", "get", "k"]).stderr.contains("authentication failed"))
        #expect(try EtcdTools.ctl(member.endpoint, ["--user", "bob:bobpw2", "get", "k"]).stderr.contains("permission denied"))
        #expect(try EtcdTools.ctl(member.endpoint, ["--user", "gone:x", "get", "k"]).stderr.contains("authentication failed"))
        #expect(try ok(member, root + ["get", "k2", "--print-value-only"]) == "v2\n")
    }

    /// A member removed from the etcd cluster stays removed after `migrate`
    /// (its ID lands in members.removed.json, so it is told so if it comes
    /// back), while `snapshot restore` drops it with the rest of the old
    /// membership, as etcdutl 3.5.1's restore trims `members_removed`.
    @Test func removedMembersSurviveMigrateButNotRestore() throws {
        let etcd = try ServerProcess(binary: try EtcdTools.etcd35, name: "etcd")
        defer { etcd.stop(); etcd.removeData() }
        try etcd.start()
        // A learner does not count towards the quorum: the lone voter removes it.
        let added = try EtcdTools.ctl(etcd.endpoint, ["member", "add", "gone", "--learner", "--peer-urls", "http://127.0.0.1:\(freePort())"])
        #expect(added.exitCode == 0, "\(added.stderr)")
        let hex = try #require(added.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(added.stdout)")
        let removedID = try #require(UInt64(hex, radix: 16), "\(added.stdout)")
        let removed = try EtcdTools.ctl(etcd.endpoint, ["member", "remove", hex])
        #expect(removed.exitCode == 0, "\(removed.stderr)")
        let file = etcd.dataDir + ".snap.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try EtcdTools.save(etcd.endpoint, to: file)
        etcd.stopTimed()  // etcd exits by the signal it got

        func removedIDs(_ member: ServerProcess) -> [UInt64] {
            let data = FileManager.default.contents(atPath: member.dataDir + "/member/members.removed.json") ?? Data("[]".utf8)
            return (try? JSONDecoder().decode([UInt64].self, from: data)) ?? [0]
        }
        let migrated = try ServerProcess(name: "migrated")
        defer { migrated.stop(); migrated.removeData() }
        let m = try migrate(etcd.dataDir, into: migrated)
        #expect(m.exitCode == 0, "\(m.stderr)")
        #expect(removedIDs(migrated) == [removedID])
        try migrated.start()
        #expect(try etcdctl(migrated.endpoint, ["endpoint", "health"]).exitCode == 0, "\(migrated.logTail())")

        let restored = try ServerProcess(name: "restored")
        defer { restored.removeData() }
        let r = try EtcdTools.swiftEtcd(["snapshot", "restore", file] + EtcdTools.restoreFlags(restored))
        #expect(r.exitCode == 0, "\(r.stderr)")
        #expect(removedIDs(restored) == [])
    }

    /// A removal only etcd's WAL holds (its backend commits hourly here and
    /// it is killed) is kept by `migrate` too.
    @Test func aMemberRemovedOnlyInTheWALStaysRemoved() throws {
        let etcd = try ServerProcess(binary: try EtcdTools.etcd35, name: "etcd",
                                     extraArgs: ["--backend-batch-interval=1h", "--backend-batch-limit=10000000"])
        defer { etcd.stop(); etcd.removeData() }
        try etcd.start()
        let added = try EtcdTools.ctl(etcd.endpoint, ["member", "add", "gone", "--learner", "--peer-urls", "http://127.0.0.1:\(freePort())"])
        let hex = try #require(added.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(added.stdout) \(added.stderr)")
        #expect(try EtcdTools.ctl(etcd.endpoint, ["member", "remove", hex]).exitCode == 0)
        etcd.stop(signal: SIGKILL)

        let migrated = try ServerProcess(name: "migrated")
        defer { migrated.removeData() }
        let m = try migrate(etcd.dataDir, into: migrated)
        #expect(m.exitCode == 0, "\(m.stderr)")
        let data = FileManager.default.contents(atPath: migrated.dataDir + "/member/members.removed.json") ?? Data("[]".utf8)
        #expect(try JSONDecoder().decode([UInt64].self, from: data) == [UInt64(hex, radix: 16)])
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
