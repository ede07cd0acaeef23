import Foundation
import Testing

/// Every way a member stops and comes back (issue 13), on the release
/// binary: afterwards every acknowledged key is there with the revisions it
/// was acknowledged at, and `etcdctl endpoint hashkv` equals what it was.
@Suite(.serialized) struct RestartMatrixTests {
    /// What a restart must keep: every key with create/mod revision, version,
    /// lease and value; the store revision; HashKV and compact revision.
    struct State: Equatable, CustomStringConvertible {
        var kvs: [[String: String]]
        var revision: Int64
        var hash: UInt64
        var compact: Int64
        var description: String { "\(kvs.count) keys at revision \(revision), hash \(hash), compacted at \(compact)" }
    }

    static func state(_ m: ServerProcess, consistency: String = "l") throws -> State {
        let d = try dump(m.endpoint, consistency: consistency)
        let h = try hashKV(m.endpoint, rev: d.revision)
        return State(kvs: d.kvs, revision: d.revision, hash: h.hash, compact: h.compact)
    }

    /// Stops `m` with `signal` (after SIGTERM it must end by that signal, as etcd) and starts it again.
    static func restart(_ m: ServerProcess, signal: Int32) throws {
        let status = m.stop(signal: signal)
        if signal == SIGTERM { #expect(status == SIGTERM, "\(m.name) exited \(String(describing: status)) on SIGTERM: \(m.logTail())") }
        try m.start()
    }

    /// Every acknowledged put is in `kvs`, created and last modified at the
    /// revision it was acknowledged at (ackwriter's keys are written once).
    static func expectAcked(_ acks: [(key: String, revision: Int64)], in kvs: [[String: String]], _ who: String) {
        var byKey: [String: [String: String]] = [:]
        for kv in kvs {
            guard let k = kv["key"], let data = Data(base64Encoded: k) else { continue }
            byKey[String(decoding: data, as: UTF8.self)] = kv
        }
        let lost = acks.filter {
            byKey[$0.key]?["create_revision"] != "\($0.revision)" || byKey[$0.key]?["mod_revision"] != "\($0.revision)"
        }
        #expect(lost.isEmpty, "\(who): \(lost.count) of \(acks.count) acknowledged puts lost or changed, e.g. \(lost.prefix(3))")
    }

    static func maintload(_ endpoint: String, _ args: [String]) throws -> CommandResult {
        let r = try ProcessRunner.run(try GoPrograms.binary("maintload"), ["-endpoint", endpoint] + args, timeoutSeconds: 180)
        #expect(r.exitCode == 0, "maintload \(args): \(r.stderr)")
        return r
    }

    /// A store with every kind of change: puts in txns, overwrites, deletes, a leased key.
    static func load(_ m: ServerProcess, keys: Int = 200) throws {
        _ = try maintload(m.endpoint, ["-mode", "fill", "-total", "\(keys)", "-val-size", "300", "-clients", "4", "-batch", "10"])
        for i in stride(from: 0, to: keys, by: 7) {
            #expect(try etcdctl(m.endpoint, ["put", String(format: "key/%08d", i), "overwritten-\(i)"]).exitCode == 0)
        }
        #expect(try etcdctl(m.endpoint, ["del", "key/00000010", "key/00000020"]).exitCode == 0)
        let grant = try etcdctl(m.endpoint, ["lease", "grant", "600"])
        let id = try #require(grant.stdout.split(separator: " ").dropFirst().first.map(String.init), "\(grant.stderr)")
        #expect(try etcdctl(m.endpoint, ["put", "leased", "v", "--lease=\(id)"]).exitCode == 0)
    }

    // MARK: one member

    @Test func cleanSIGTERM() throws {
        let m = try ServerProcess()
        defer { m.stop(); m.removeData() }
        try m.start()
        try Self.load(m)
        let before = try Self.state(m)
        try Self.restart(m, signal: SIGTERM)
        #expect(try Self.state(m) == before)
        let put = try etcdctl(m.endpoint, ["put", "after", "x", "-w", "json"])
        #expect(put.stdout.contains("\"revision\":\(before.revision + 1)"), "\(put.stdout) \(put.stderr)")
    }

    @Test func kill9UnderConcurrentWriters() throws {
        let m = try ServerProcess()
        defer { m.stop(); m.removeData() }
        try m.start()
        let writer = try AckWriter(endpoints: m.endpoint, clients: 16, ackPath: m.dataDir + ".acks")
        writer.wait(forAcks: 300)
        // HashKV at a revision every later write is above: it must not change.
        let early = try #require(try writer.acknowledged().map(\.revision).max())
        let hashEarly = try hashKV(m.endpoint, rev: early)
        writer.wait(forAcks: writer.count + 300)
        m.stop(signal: SIGKILL)
        writer.stop()
        let acks = try writer.acknowledged()
        #expect(acks.count >= 600, "only \(acks.count) puts acknowledged before the kill")

        try m.start()
        let after = try Self.state(m)
        Self.expectAcked(acks, in: after.kvs, m.name)
        #expect(try hashKV(m.endpoint, rev: early) == hashEarly)
        #expect(after.revision >= acks.map(\.revision).max() ?? 0)
        // Whatever the kill left, a clean restart keeps exactly it.
        try Self.restart(m, signal: SIGTERM)
        #expect(try Self.state(m) == after)
    }

    /// Several `--snapshot-count` snapshots (each compacts the Raft log) and
    /// a physical MVCC compaction between them.
    @Test func afterSnapshotsAndLogCompaction() throws {
        let m = try ServerProcess(extraArgs: ["--snapshot-count", "40"])
        defer { m.stop(); m.removeData() }
        try m.start()
        try Self.load(m, keys: 300)
        let middle = try dump(m.endpoint).revision
        #expect(try etcdctl(m.endpoint, ["compact", "\(middle)", "--physical"]).exitCode == 0)
        _ = try Self.maintload(m.endpoint, ["-mode", "fill", "-total", "200", "-prefix", "more/", "-clients", "2", "-batch", "1"])
        let snapshots = m.logTail(bytes: 1_000_000).components(separatedBy: "\"msg\":\"saved snapshot\"").count - 1
        #expect(snapshots >= 5, "only \(snapshots) snapshots: \(m.logTail())")
        let before = try Self.state(m)
        #expect(before.compact == middle)
        try Self.restart(m, signal: SIGKILL)
        #expect(try Self.state(m) == before)
        let old = try etcdctl(m.endpoint, ["get", "key/00000001", "--rev", "\(middle - 1)"])
        #expect(old.stderr.contains("required revision has been compacted"), "\(old.stdout) \(old.stderr)")
    }

    @Test func afterOnlineDefrag() throws {
        let m = try ServerProcess()
        defer { m.stop(); m.removeData() }
        try m.start()
        try Self.load(m, keys: 2000)
        let del = try etcdctl(m.endpoint, ["del", "key/00000000", "key/00001000"])
        #expect(del.stdout == "990\n", "\(del.stdout) \(del.stderr)")  // 1000 less the 10 `load` deleted
        let rev = try dump(m.endpoint).revision
        #expect(try etcdctl(m.endpoint, ["compact", "\(rev)", "--physical"]).exitCode == 0)
        let defrag = try etcdctl(m.endpoint, ["defrag"])
        #expect(defrag.exitCode == 0 && defrag.stdout.contains("Finished defragmenting"), "\(defrag.stdout) \(defrag.stderr)")
        #expect(try etcdctl(m.endpoint, ["put", "after-defrag", "x"]).exitCode == 0)
        let before = try Self.state(m)
        try Self.restart(m, signal: SIGKILL)
        #expect(try Self.state(m) == before)
    }

    @Test func afterSnapshotRestore() throws {
        let source = try ServerProcess()
        defer { source.stop(); source.removeData() }
        try source.start()
        try Self.load(source)
        let saved = try Self.state(source)
        let file = source.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try etcdctl(source.endpoint, ["snapshot", "save", file]).exitCode == 0)

        let restored = try ServerProcess(name: "restored")
        defer { restored.stop(); restored.removeData() }
        let peer = "http://127.0.0.1:\(restored.peerPort)"
        let restore = try swiftEtcd(["snapshot", "restore", file, "--data-dir", restored.dataDir, "--name", "restored",
                                     "--initial-cluster", "restored=\(peer)", "--initial-advertise-peer-urls", peer])
        #expect(restore.exitCode == 0, "\(restore.stderr)")
        try restored.start()
        let first = try Self.state(restored)
        #expect(first.kvs == saved.kvs && first.hash == saved.hash && first.revision == saved.revision, "\(first) vs \(saved)")
        // The restored member's own first restarts, before and after writes.
        try Self.restart(restored, signal: SIGKILL)
        #expect(try Self.state(restored) == first)
        #expect(try etcdctl(restored.endpoint, ["put", "after-restore", "x"]).exitCode == 0)
        let written = try Self.state(restored)
        try Self.restart(restored, signal: SIGTERM)
        #expect(try Self.state(restored) == written)
    }

    /// Hundreds of leases with keys: all of them and their keys come back;
    /// leases granted with a short TTL just before the kill still expire
    /// after the restart (their keys are deleted), the long ones do not.
    @Test func afterLeaseHeavyLoad() throws {
        let m = try ServerProcess()
        defer { m.stop(); m.removeData() }
        try m.start()
        let long = try Self.maintload(m.endpoint, ["-mode", "leases", "-total", "500", "-ttl", "600", "-keys", "2",
                                                   "-prefix", "long/", "-clients", "8"])
        let longIDs = Set(long.stdout.split(separator: "\n").filter { !$0.hasPrefix("leases") }.map(String.init))
        #expect(longIDs.count == 500)
        let longState = try Self.state(m)
        _ = try Self.maintload(m.endpoint, ["-mode", "leases", "-total", "100", "-ttl", "4", "-keys", "1",
                                            "-prefix", "short/", "-clients", "8"])
        try Self.restart(m, signal: SIGKILL)

        // HashKV up to the long leases' last revision is what it was, and so
        // is every long-leased key (same revisions, same lease).
        #expect(try hashKV(m.endpoint, rev: longState.revision).hash == longState.hash)
        let deadline = Date().addingTimeInterval(30)
        var shortLeft = -1
        repeat {
            let r = try etcdctl(m.endpoint, ["get", "short/", "--prefix", "--keys-only", "-w", "json"])
            let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            // JSON leaves a zero count out.
            shortLeft = r.exitCode != 0 || json == nil ? -1 : (json?["count"] as? NSNumber)?.intValue ?? 0
            if shortLeft != 0 { usleep(500_000) }
        } while shortLeft != 0 && Date() < deadline
        #expect(shortLeft == 0, "short leases did not expire after the restart: \(m.logTail())")
        let now = try dump(m.endpoint)
        #expect(now.kvs.filter { ($0["key"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "")
            .hasPrefix("long/") } == longState.kvs)
        let list = try etcdctl(m.endpoint, ["lease", "list"])
        let listed = Set(list.stdout.split(separator: "\n").dropFirst().map(String.init))
        #expect(listed == longIDs, "lease list after restart: \(listed.count) leases, expected the \(longIDs.count) long ones")
    }

    // MARK: three members

    /// Each member in turn stopped (SIGTERM) and restarted while clientv3
    /// writes through all endpoints.
    @Test func clusterRollingRestartUnderWrites() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)
        let writer = try AckWriter(endpoints: cluster.endpoints, clients: 10, ackPath: cluster.members[0].dataDir + ".acks")
        writer.wait(forAcks: 200)
        let early = try #require(try writer.acknowledged().map(\.revision).max())
        let hashEarly = try hashKV(cluster.members[0].endpoint, rev: early)
        for m in cluster.members {
            #expect(m.stop(signal: SIGTERM) == SIGTERM, "\(m.name): \(m.logTail())")
            writer.wait(forAcks: writer.count + 100)
            try m.start()
            _ = try cluster.waitForLeader(among: cluster.members, seconds: 30)
            writer.wait(forAcks: writer.count + 100)
        }
        writer.stop()
        let acks = try writer.acknowledged()
        #expect(acks.count >= 800, "writes stalled during the rolling restart: \(acks.count) acknowledged")
        #expect(SnapshotCatchUpTests.waitForEqualHashes(cluster.members), "members differ after the rolling restart")
        for m in cluster.members {
            Self.expectAcked(acks, in: try dump(m.endpoint, consistency: "s").kvs, m.name)
            #expect(try hashKV(m.endpoint, rev: early) == hashEarly, "\(m.name)")
        }
    }

    /// All three killed at once and started together: each comes back with
    /// exactly its state, and they elect a leader again.
    @Test func clusterAllStoppedAndStartedTogether() throws {
        let cluster = try ClusterTests.Cluster(extraArgs: ["--snapshot-count", "100"])
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)
        let writer = try AckWriter(endpoints: cluster.endpoints, clients: 10, ackPath: cluster.members[0].dataDir + ".acks")
        writer.wait(forAcks: 500)
        writer.stop()
        #expect(SnapshotCatchUpTests.waitForEqualHashes(cluster.members))
        let before = try cluster.members.map { try Self.state($0) }
        #expect(Set(before.map(\.hash)).count == 1)
        for m in cluster.members { m.stop(signal: SIGKILL) }
        for m in cluster.members { try m.start() }
        _ = try cluster.waitForLeader(among: cluster.members, seconds: 30)
        let acks = try writer.acknowledged()
        for (m, was) in zip(cluster.members, before) {
            let now = try Self.state(m)
            #expect(now == was, "\(m.name): \(now) vs \(was)")
            Self.expectAcked(acks, in: now.kvs, m.name)
        }
        let put = try etcdctl(cluster.members[2].endpoint, ["put", "after", "x"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    /// `member add` and `member remove` done elsewhere in the cluster, then
    /// a member that saw them is killed and restarted: it comes back with
    /// the new member table and its data, and so does the member that joined.
    @Test func memberRestartAfterAddAndRemoveElsewhere() throws {
        let cluster = try ClusterTests.Cluster(extraArgs: ["--snapshot-count", "50"])
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)
        let (m1, m2, m3) = (cluster.members[0], cluster.members[1], cluster.members[2])
        _ = try Self.maintload(m1.endpoint, ["-mode", "fill", "-total", "120", "-clients", "2", "-batch", "1"])

        let peer4 = freePort()
        let add = try MemberReconfigTests.addMember(m1.endpoint, ["m4", "--peer-urls", "http://127.0.0.1:\(peer4)"])
        #expect(add.exitCode == 0, "\(add.stderr)")
        let token = try #require(m1.arguments.firstIndex(of: "--initial-cluster-token").map { m1.arguments[$0 + 1] })
        let m4 = try ServerProcess(name: "m4", extraArgs: ["--initial-cluster-token", token, "--initial-cluster-state", "existing",
                                                           "--snapshot-count", "50"],
                                   peerPort: peer4, initialCluster: try MemberReconfigTests.initialCluster(of: add))
        defer { m4.stop(); m4.removeData() }
        try m4.start()
        #expect(MemberReconfigTests.waitForValue(m4, "key/00000119", String(repeating: "v", count: 100)),
                "m4 did not catch up: \(m4.logTail())")
        let id2 = try #require(cluster.status(m2)?.memberID)
        try MemberReconfigTests.removeAndExpectExit(m1.endpoint, String(id2, radix: 16), m2)
        _ = try Self.maintload(m1.endpoint, ["-mode", "fill", "-total", "60", "-prefix", "after/", "-clients", "2", "-batch", "1"])

        for m in [m3, m4] {
            let members = try etcdctl(m.endpoint, ["member", "list"]).stdout
            #expect(members.split(separator: "\n").count == 3 && !members.contains(", m2,"), "\(m.name): \(members)")
            let before = try Self.state(m)
            try Self.restart(m, signal: SIGKILL)
            _ = try cluster.waitForLeader(among: [m1, m3, m4], seconds: 30)
            #expect(try etcdctl(m.endpoint, ["member", "list"]).stdout == members, "\(m.name)'s member table changed")
            #expect(try Self.state(m) == before, "\(m.name)")
            let put = try etcdctl(m.endpoint, ["put", "via-\(m.name)", "x"])
            #expect(put.exitCode == 0, "\(m.name): \(put.stderr)")
        }
        #expect(SnapshotCatchUpTests.waitForEqualHashes([m1, m3, m4]))
    }
}
