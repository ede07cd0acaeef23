import Foundation
import Testing

/// Users and roles travel through snapshots both ways, names longer than
/// LMDB's key limit included (swift-etcd stores such a name under a
/// shortened key and gives etcd the name back as etcd files it):
/// swift-etcd → snapshot → etcdutl 3.5.1 restore → etcd serves them, and
/// that etcd's snapshot → swift-etcd restore → served again, with the same
/// answers to every user and role query.
@Suite struct SnapshotAuthInteropTests {
    static let user = String(repeating: "u", count: 600)
    static let role = String(repeating: "r", count: 700)
    static let root = ["--user", "root:rootpw"]
    static let queries = [["user", "list"], ["role", "list"], ["user", "get", user], ["role", "get", role]]

    @discardableResult
    func ok(_ server: ServerProcess, _ args: [String]) throws -> String {
        let r = try EtcdTools.ctl(server.endpoint, args)
        #expect(r.exitCode == 0, "\(args.prefix(3)): \(r.stderr)")
        return r.stdout
    }

    /// Each query's answer, and that the long-named user reads `k` (and only with its password).
    func answers(_ server: ServerProcess) throws -> [String] {
        #expect(try ok(server, ["--user", "\(Self.user):upw", "get", "k", "--print-value-only"]) == "v\n")
        #expect(try EtcdTools.ctl(server.endpoint, ["--user", "\(Self.user):nope", "get", "k"]).stderr.contains("authentication failed"))
        return try Self.queries.map { try ok(server, Self.root + $0) }
    }

    @Test func longUserAndRoleNamesRoundTripThroughEtcd() throws {
        let ours = try ServerProcess(name: "ours")
        defer { ours.stop(); ours.removeData() }
        try ours.start()
        for step in [["user", "add", "root:rootpw", "--interactive=false"], ["user", "grant-role", "root", "root"],
                     ["role", "add", Self.role], ["role", "grant-permission", Self.role, "read", "k"],
                     ["user", "add", "\(Self.user):upw", "--interactive=false"], ["user", "grant-role", Self.user, Self.role],
                     ["put", "k", "v"], ["auth", "enable"]] {
            try ok(ours, step)
        }
        let want = try answers(ours)
        #expect(want[0].contains(Self.user) && want[3].contains("KV Read:\n\tk\n"), "\(want)")
        let ourFile = ours.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: ourFile) }
        try ok(ours, Self.root + ["snapshot", "save", ourFile])
        ours.stop()

        let etcd = try ServerProcess(binary: try EtcdTools.etcd35, name: "etcd-restored")
        defer { etcd.stop(); etcd.removeData() }
        let restore = try ProcessRunner.run(try EtcdTools.etcdutl35, ["snapshot", "restore", ourFile] + EtcdTools.restoreFlags(etcd),
                                            timeoutSeconds: 120)
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        try etcd.start(timeoutSeconds: 60)
        #expect(try answers(etcd) == want, "swift-etcd → etcd 3.5.1")
        let etcdFile = etcd.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: etcdFile) }
        try ok(etcd, Self.root + ["snapshot", "save", etcdFile])
        etcd.stop()

        let back = try ServerProcess(name: "back")
        defer { back.stop(); back.removeData() }
        let r = try EtcdTools.swiftEtcd(["snapshot", "restore", etcdFile] + EtcdTools.restoreFlags(back))
        #expect(r.exitCode == 0, "\(r.stderr)")
        try back.start()
        #expect(try answers(back) == want, "etcd 3.5.1 → swift-etcd")
    }
}
