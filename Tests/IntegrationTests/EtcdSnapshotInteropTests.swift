import Foundation
import Testing

/// Data moves from etcd to swift-etcd and back through snapshots and data
/// dirs, with the real etcd 3.5.1 and 3.4 tools. Each trip is checked key
/// by key with every revision the history still holds (the key space at
/// the compaction revision, then every change after it, from a watch),
/// leases with their keys, and HashKV, through `etcdhistory dump`. The
/// history: 100,000 keys, overwrites, deletes, a range delete, keys of
/// 600-5000 bytes, values of 1 MB, two leases, a physical compaction, and
/// changes after it.
@Suite(.serialized) struct EtcdSnapshotInteropTests {
    static let keys = 100_000

    /// An etcd 3.5.1 member that wrote the history, its dump, and its snapshot.
    final class EtcdSource: @unchecked Sendable {
        let server: ServerProcess
        let dump: String
        /// The dump with leases named by TTL and no HashKV, to compare with another server's run of the history.
        let portableDump: String
        let snapshot: String

        init(keys: Int, binary: String, ctl: String) throws {
            server = try ServerProcess(binary: binary, name: "etcd-source")
            try server.start()
            _ = try EtcdTools.history(server.endpoint, ["-mode", "write", "-keys", "\(keys)"])
            dump = try EtcdTools.history(server.endpoint, ["-mode", "dump"])
            portableDump = try EtcdTools.history(server.endpoint, ["-mode", "dump", "-portable"])
            snapshot = server.dataDir + ".snapshot.db"
            try EtcdTools.save(server.endpoint, to: snapshot, ctl: ctl)
            server.stop()
        }

        deinit {
            server.removeData()
            try? FileManager.default.removeItem(atPath: snapshot)
        }

        private static let lock = NSLock()
        nonisolated(unsafe) private static var shared35: EtcdSource?
        /// One etcd 3.5.1 source for the tests that start from it.
        static func etcd35() throws -> EtcdSource {
            try lock.withLock {
                if let s = shared35 { return s }
                let s = try EtcdSource(keys: EtcdSnapshotInteropTests.keys, binary: try EtcdTools.etcd35, ctl: try EtcdTools.etcdctl35)
                shared35 = s
                return s
            }
        }
    }

    /// A swift-etcd member restored from `snapshot` and started.
    private func restoredSwiftEtcd(_ snapshot: String, name: String = "restored") throws -> ServerProcess {
        let member = try ServerProcess(name: name)
        let r = try EtcdTools.swiftEtcd(["snapshot", "restore", snapshot] + EtcdTools.restoreFlags(member))
        guard r.exitCode == 0 else { throw TestSetupError("restore: \(r.stderr)") }
        try member.start()
        return member
    }

    /// A real etcd restored from `snapshot` by `etcdutl` (or 3.4's etcdctl) and started.
    private func restoredEtcd(_ snapshot: String, etcd: String, restorer: String) throws -> ServerProcess {
        let member = try ServerProcess(binary: etcd, name: "etcd-restored")
        let r = try ProcessRunner.run(restorer, ["snapshot", "restore", snapshot] + EtcdTools.restoreFlags(member),
                                      environment: ["ETCDCTL_API": "3"], timeoutSeconds: 300)
        guard r.exitCode == 0 else { throw TestSetupError("\(restorer) restore: \(r.stderr)") }
        try member.start(timeoutSeconds: 60)
        return member
    }

    private func expectSameDump(_ got: String, _ want: String, _ what: Comment) {
        let difference = EtcdTools.firstDifference(got, want)
        #expect(difference == nil, "\(what): \(difference ?? "")")
    }

    private func statusJSON(_ tool: String, _ args: [String]) throws -> String {
        let r = try ProcessRunner.run(tool, args, environment: ["ETCDCTL_API": "3"], timeoutSeconds: 120)
        #expect(r.exitCode == 0, "\(tool) \(args): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func etcdSnapshotRestoresIntoSwiftEtcd() throws {
        let source = try EtcdSource.etcd35()
        // Our status of etcd's file is etcdutl's, figure for figure.
        let ours = try statusJSON(try PackagePaths.serverBinary, ["snapshot", "status", source.snapshot, "-w", "json"])
        let etcdutl = try statusJSON(try EtcdTools.etcdutl35, ["snapshot", "status", source.snapshot, "-w", "json"])
        #expect(ours == etcdutl)
        let table = try EtcdTools.swiftEtcd(["snapshot", "status", source.snapshot, "-w", "table"])
        let etcdTable = try ProcessRunner.run(try EtcdTools.etcdutl35, ["snapshot", "status", source.snapshot, "-w", "table"])
        #expect(table.stdout == etcdTable.stdout)

        let restored = try restoredSwiftEtcd(source.snapshot)
        defer { restored.stop(); restored.removeData() }
        expectSameDump(try EtcdTools.history(restored.endpoint, ["-mode", "dump"]), source.dump, "etcd 3.5.1 → swift-etcd")
        // It goes on from there.
        let put = try EtcdTools.ctl(restored.endpoint, ["put", "after", "restore", "-w", "json"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    @Test func etcdToSwiftEtcdToEtcd() throws {
        let source = try EtcdSource.etcd35()
        let middle = try restoredSwiftEtcd(source.snapshot)
        defer { middle.stop(); middle.removeData() }
        let file = middle.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try EtcdTools.save(middle.endpoint, to: file)
        let back = try restoredEtcd(file, etcd: try EtcdTools.etcd35, restorer: try EtcdTools.etcdutl35)
        defer { back.stop(); back.removeData() }
        expectSameDump(try EtcdTools.history(back.endpoint, ["-mode", "dump"]), source.dump, "etcd → swift-etcd → etcd")
    }

    @Test func swiftEtcdSnapshotRestoresIntoEtcd35And34() throws {
        let ours = try ServerProcess(name: "ours")
        defer { ours.stop(); ours.removeData() }
        try ours.start()
        _ = try EtcdTools.history(ours.endpoint, ["-mode", "write", "-keys", "\(Self.keys)"])
        let dump = try EtcdTools.history(ours.endpoint, ["-mode", "dump"])
        let file = ours.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try EtcdTools.save(ours.endpoint, to: file)

        // etcdutl 3.5.1, etcdctl 3.5.1 and etcdctl 3.4 agree with us on the file.
        let status = try statusJSON(try PackagePaths.serverBinary, ["snapshot", "status", file, "-w", "json"])
        #expect(try statusJSON(try EtcdTools.etcdutl35, ["snapshot", "status", file, "-w", "json"]) == status)
        #expect(try statusJSON(try EtcdTools.etcdctl35, ["snapshot", "status", file, "-w", "json"]) == status)
        #expect(try statusJSON(EtcdTools.etcdctl34, ["snapshot", "status", file, "-w", "json"]) == status)
        // The same history on etcd gives a snapshot with the same revision and entry count.
        let source = try EtcdSource.etcd35()
        let theirs = try JSONSerialization.jsonObject(with: Data(try statusJSON(try EtcdTools.etcdutl35,
            ["snapshot", "status", source.snapshot, "-w", "json"]).utf8)) as? [String: Any]
        let mine = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
        #expect(mine?["revision"] as? Int == theirs?["revision"] as? Int)
        #expect(mine?["totalKey"] as? Int == theirs?["totalKey"] as? Int)
        expectSameDump(try EtcdTools.history(ours.endpoint, ["-mode", "dump", "-portable"]),
                       source.portableDump,
                       "the same history on swift-etcd and etcd")

        let etcd35 = try restoredEtcd(file, etcd: try EtcdTools.etcd35, restorer: try EtcdTools.etcdutl35)
        defer { etcd35.stop(); etcd35.removeData() }
        expectSameDump(try EtcdTools.history(etcd35.endpoint, ["-mode", "dump"]), dump, "swift-etcd → etcd 3.5.1")
        etcd35.stop()
        let etcd34 = try restoredEtcd(file, etcd: EtcdTools.etcd34, restorer: EtcdTools.etcdctl34)
        defer { etcd34.stop(); etcd34.removeData() }
        expectSameDump(try EtcdTools.history(etcd34.endpoint, ["-mode", "dump"]), dump, "swift-etcd → etcd 3.4")
    }

    @Test func threeMemberClusterFromAnEtcdSnapshot() throws {
        let source = try EtcdSource.etcd35()
        let ports = (0..<3).map { _ in (client: freePort(), peer: freePort()) }
        let cluster = ports.enumerated().map { "m\($0.offset)=http://127.0.0.1:\($0.element.peer)" }.joined(separator: ",")
        let members = try ports.enumerated().map { i, p in
            try ServerProcess(name: "m\(i)", clientPort: p.client, peerPort: p.peer, initialCluster: cluster)
        }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members {
            let r = try EtcdTools.swiftEtcd(["snapshot", "restore", source.snapshot] + EtcdTools.restoreFlags(m, cluster: cluster))
            #expect(r.exitCode == 0, "\(r.stderr)")
        }
        for m in members { try m.start() }
        for m in members {
            expectSameDump(try EtcdTools.history(m.endpoint, ["-mode", "dump"]), source.dump, "member \(m.name)")
        }
        let put = try EtcdTools.ctl(members[0].endpoint, ["put", "written-on-m0", "x"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        let get = try EtcdTools.ctl(members[2].endpoint, ["get", "written-on-m0", "--print-value-only"])
        #expect(get.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "x")
    }

    @Test func etcd34SnapshotRestoresIntoSwiftEtcd() throws {
        let source = try EtcdSource(keys: 10_000, binary: EtcdTools.etcd34, ctl: EtcdTools.etcdctl34)
        let ours = try statusJSON(try PackagePaths.serverBinary, ["snapshot", "status", source.snapshot, "-w", "json"])
        #expect(ours == (try statusJSON(EtcdTools.etcdctl34, ["snapshot", "status", source.snapshot, "-w", "json"])))
        let restored = try restoredSwiftEtcd(source.snapshot)
        defer { restored.stop(); restored.removeData() }
        expectSameDump(try EtcdTools.history(restored.endpoint, ["-mode", "dump"]), source.dump, "etcd 3.4 → swift-etcd")
    }

    /// A stopped member's `member/snap/db` (no digest) restores with
    /// `--skip-hash-check` only, as with etcdutl.
    @Test func rawMemberDatabaseNeedsSkipHashCheck() throws {
        let source = try EtcdSource.etcd35()
        let raw = source.server.dataDir + "/member/snap/db"
        let member = try ServerProcess(name: "from-db")
        defer { member.stop(); member.removeData() }
        let refused = try EtcdTools.swiftEtcd(["snapshot", "restore", raw] + EtcdTools.restoreFlags(member))
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("snapshot missing hash but --skip-hash-check=false"), "\(refused.stderr)")
        let r = try EtcdTools.swiftEtcd(["snapshot", "restore", raw, "--skip-hash-check"] + EtcdTools.restoreFlags(member))
        #expect(r.exitCode == 0, "\(r.stderr)")
        try member.start()
        expectSameDump(try EtcdTools.history(member.endpoint, ["-mode", "dump"]), source.dump, "member/snap/db → swift-etcd")
    }
}
