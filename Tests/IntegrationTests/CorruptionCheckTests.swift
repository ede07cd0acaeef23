import Foundation
import Testing
import TestSupport

/// The corruption checks on a real 3-member cluster: one member's store is
/// silently changed while it is stopped (the test-only `mvcc-corrupt` tool
/// flips a byte of a stored value, keeping the revision); the start-up check
/// then refuses to start it, and once it runs again the leader's periodic
/// check raises CORRUPT, which `etcdctl alarm list` shows and which makes
/// writes fail with etcd's error.
@Suite(.serialized) struct CorruptionCheckTests {
    static var corruptTool: String {
        get throws {
            guard let path = BuiltProducts.executable("mvcc-corrupt") else {
                throw TestSetupError("mvcc-corrupt not built; run `swift build` first")
            }
            return path
        }
    }

    struct Node {
        var name: String
        var client: Int
        var peer: Int
        var dataDir: String
    }

    @Test func corruptedMemberIsRefusedAtStartAndAlarmedByTheLeader() throws {
        let names = ["c1", "c2", "c3"]
        let base = NSTemporaryDirectory() + "swift-etcd-corrupt-\(UUID().uuidString.prefix(8))"
        let nodes = names.map { Node(name: $0, client: freePort(), peer: freePort(), dataDir: "\(base)-\($0)") }
        let initial = nodes.map { "\($0.name)=http://127.0.0.1:\($0.peer)" }.joined(separator: ",")
        let token = "corrupt-\(UUID().uuidString.prefix(8))"
        func process(_ n: Node, _ extra: [String]) throws -> ServerProcess {
            try ServerProcess(name: n.name, extraArgs: ["--initial-cluster-token", token, "--experimental-corrupt-check-time", "1s"] + extra,
                              dataDir: n.dataDir, clientPort: n.client, peerPort: n.peer, initialCluster: initial)
        }
        var members = try nodes.map { try process($0, []) }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members { try m.start() }
        let leaderIndex = try waitForLeaderIndex(members)
        for i in 0..<10 {
            let r = try etcdctl(members[leaderIndex].endpoint, ["put", "key-\(i)", "value-\(i)"])
            #expect(r.exitCode == 0, "\(r.stderr)")
        }
        // Every member has applied everything: same hash everywhere.
        let victim = (leaderIndex + 1) % 3
        try waitForEqualHashes(members)

        // Peers measure round trips to each other over the peer link.
        var rttSeries: [String] = []
        let rttDeadline = Date().addingTimeInterval(60)
        repeat {
            rttSeries = try MetricsTests.scrape(members[leaderIndex].clientURL).samples.keys
                .filter { $0.hasPrefix("etcd_network_peer_round_trip_time_seconds_count{To=") }
            if rttSeries.count == 2 { break }
            usleep(300_000)
        } while Date() < rttDeadline
        #expect(rttSeries.count == 2, "\(rttSeries)")

        let victimStatus = try etcdctl(members[victim].endpoint, ["endpoint", "status", "-w", "json"]).stdout
        let victimHeader = ((try JSONSerialization.jsonObject(with: Data(victimStatus.utf8)) as? [[String: Any]])?
            .first?["Status"] as? [String: Any])?["header"] as? [String: Any]
        let victimID = (victimHeader?["member_id"] as? NSNumber)?.uint64Value ?? 0
        members[victim].stop(signal: SIGTERM)
        let tool = try ProcessRunner.run(try Self.corruptTool, [nodes[victim].dataDir + "/member/snap/db"])
        #expect(tool.exitCode == 0, "\(tool.stderr)")

        // The initial check compares with the two healthy peers and refuses to start.
        let checked = try process(nodes[victim], ["--experimental-initial-corrupt-check"])
        #expect(throws: TestSetupError.self) { try checked.start() }
        #expect(checked.process == nil || checked.process?.isRunning == false)
        #expect(checked.log.contains("found data inconsistency with peers"), "\(checked.logTail())")
        #expect(checked.log.contains("found different hash values from remote peer"))

        // Started without it, the member rejoins; the leader's periodic check raises CORRUPT.
        members[victim] = try process(nodes[victim], [])
        try members[victim].start()
        let healthy = members[leaderIndex]
        var alarms = ""
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            alarms = try etcdctl(healthy.endpoint, ["alarm", "list"]).stdout
            if alarms.contains("CORRUPT") { break }
            usleep(300_000)
        }
        // The alarm names the corrupted member (a release-build miscompile once put garbage here).
        #expect(alarms.contains("memberID:\(victimID) alarm:CORRUPT"), "alarms: \(alarms)\n\(healthy.logTail())")
        let logs = members.map { $0.logTail(bytes: 20000) }.joined()
        #expect(logs.contains("same compact revision then hashes must match") || logs.contains("revision from follower"), "\(logs.suffix(3000))")

        let put = try etcdctl(healthy.endpoint, ["put", "after", "corrupt"])
        #expect(put.exitCode != 0)
        #expect(put.stderr.contains("etcdserver: corrupt cluster"), "\(put.stderr)")
        let health = try MetricsTests.http(healthy.clientURL + "/health")
        #expect(health.0 == 503 && health.2 == "{\"health\":\"false\",\"reason\":\"ALARM CORRUPT\"}\n", "\(health)")
    }

    private func waitForLeaderIndex(_ members: [ServerProcess]) throws -> Int {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            for (i, m) in members.enumerated() {
                if let e = try? MetricsTests.scrape(m.clientURL), e.value("etcd_server_is_leader") == 1 { return i }
            }
            usleep(200_000)
        }
        throw TestSetupError("no leader")
    }

    private func waitForEqualHashes(_ members: [ServerProcess]) throws {
        let deadline = Date().addingTimeInterval(60)
        var last = ""
        while Date() < deadline {
            let r = try etcdctl(members.map(\.endpoint).joined(separator: ","), ["endpoint", "hashkv", "-w", "json"])
            last = r.stdout
            if let list = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], list.count == 3 {
                let hashes = list.compactMap { ($0["HashKV"] as? [String: Any])?["hash"] as? NSNumber }
                if hashes.count == 3 && Set(hashes.map(\.uint32Value)).count == 1 { return }
            }
            usleep(200_000)
        }
        throw TestSetupError("members' hashes never agreed: \(last)")
    }
}

/// Under a CORRUPT alarm swift-etcd answers as etcd 3.5.1 does: reads
/// (linearizable, serializable, read-only txn) still work; writes, deletes,
/// compaction and lease grants fail with `etcdserver: corrupt cluster`;
/// /health reports the alarm.
@Suite(.serialized) struct CorruptAlarmBehaviourTests {
    @Test func sameAnswersAsEtcd351UnderCorrupt() throws {
        let raise = try GoPrograms.binary("alarmactivate")
        let ours = try ServerProcess()
        let etcd = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); etcd.stop(); etcd.removeData() }
        try ours.start()
        try etcd.start()
        let commands: [[String]] = [
            ["get", "foo"], ["get", "foo", "--consistency=s"], ["put", "foo", "baz"], ["del", "foo"],
            ["compact", "1"], ["lease", "grant", "10"], ["alarm", "list"],
        ]
        func run(_ server: ServerProcess) throws -> [String] {
            #expect(try etcdctl(server.endpoint, ["put", "foo", "bar"]).exitCode == 0)
            let raised = try ProcessRunner.run(raise, ["-endpoint", server.endpoint, "-alarm", "CORRUPT"])
            #expect(raised.exitCode == 0, "\(raised.stderr)")
            var out = try commands.map { args -> String in
                let r = try etcdctl(server.endpoint, args)
                let error = r.stderr.split(separator: "\n").last { $0.hasPrefix("Error:") }.map(String.init) ?? ""
                // Member IDs differ between the two servers: compare the alarm type only.
                let stdout = args[0] == "alarm" ? r.stdout.replacingOccurrences(of: #"memberID:\d+"#, with: "memberID:N", options: .regularExpression) : r.stdout
                return "\(args.joined(separator: " ")) → exit \(r.exitCode) \(stdout) \(error)"
            }
            let txn = try etcdctl(server.endpoint, ["txn"], stdin: "\nget foo\n\n")
            out.append("txn → exit \(txn.exitCode) \(txn.stdout)")
            let health = try MetricsTests.http(server.clientURL + "/health")
            out.append("health → \(health.0) \(health.2)")
            return out
        }
        let mine = try run(ours), theirs = try run(etcd)
        for (a, b) in zip(mine, theirs) { #expect(a == b) }
        #expect(mine.first?.contains("exit 0 foo\nbar") == true, "\(mine)")
        #expect(mine[2].contains("Error: etcdserver: corrupt cluster"), "\(mine)")
    }
}
