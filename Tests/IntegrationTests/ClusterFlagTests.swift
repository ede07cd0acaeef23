import Foundation
import Testing

/// Flags that change how members form and keep a cluster:
/// `--force-new-cluster`, `--experimental-max-learners`,
/// `--initial-election-tick-advance`, `--experimental-compact-hash-check-*`,
/// `--heartbeat-interval`/`--election-timeout`.
@Suite("Cluster flags", .serialized)
struct ClusterFlagTests {
    /// `--force-new-cluster`: two of three members are lost for good; the
    /// survivor restarts as a one-member cluster with all its data, takes
    /// writes, and stays one member after a normal restart.
    @Test func forceNewClusterRecoversTheLastSurvivor() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)
        for i in 0..<50 {
            #expect(try etcdctl(cluster.endpoints, ["put", "key-\(i)", "value-\(i)"]).exitCode == 0)
        }
        let survivor = cluster.members[2]
        for m in cluster.members.prefix(2) { m.stop(signal: SIGKILL) }
        survivor.stopTimed(signal: SIGTERM)

        let forced = try ServerProcess(name: survivor.name, extraArgs: ["--force-new-cluster"], dataDir: survivor.dataDir,
                                       clientPort: survivor.clientPort, peerPort: survivor.peerPort)
        try forced.start()
        defer { forced.stop() }
        let put = try etcdctl(forced.endpoint, ["put", "after", "recovery"])
        #expect(put.exitCode == 0, "\(put.stderr) \(forced.logTail())")
        let list = try etcdctl(forced.endpoint, ["member", "list", "-w", "json"])
        let members = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["members"] as? [[String: Any]]
        #expect(members?.count == 1 && members?.first?["name"] as? String == survivor.name, "\(list.stdout)")
        let count = try etcdctl(forced.endpoint, ["get", "key-", "--prefix", "--limit", "1", "-w", "json"])
        #expect(count.stdout.contains("\"count\":50"), "\(count.stdout)")
        #expect(forced.log.contains("\"msg\":\"forcing restart member\""))

        // A plain restart keeps the one-member cluster.
        forced.stopTimed(signal: SIGTERM)
        let again = try ServerProcess(name: survivor.name, dataDir: survivor.dataDir,
                                      clientPort: survivor.clientPort, peerPort: survivor.peerPort)
        try again.start()
        defer { again.stop() }
        let get = try etcdctl(again.endpoint, ["get", "after", "--print-value-only"])
        #expect(get.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "recovery", "\(get.stderr) \(again.logTail())")
    }

    /// `--experimental-max-learners`: etcd allows one learner by default;
    /// the flag raises the limit.
    @Test func maxLearnersBoundsLearnerMembers() throws {
        for (maxLearners, allowed) in [(nil as Int?, 1), (3, 3)] {
            let server = try ServerProcess(extraArgs: maxLearners.map { ["--experimental-max-learners", "\($0)"] } ?? [])
            try server.start()
            defer { server.stop(); server.removeData() }
            for i in 0...allowed {
                let add = try etcdctl(server.endpoint, ["member", "add", "l\(i)", "--learner",
                                                        "--peer-urls", "http://127.0.0.1:\(freePort())"])
                if i < allowed {
                    #expect(add.exitCode == 0, "learner \(i + 1) of \(allowed): \(add.stderr)")
                } else {
                    #expect(add.stderr.contains("etcdserver: too many learner members in cluster"), "\(add.stderr)")
                }
            }
        }
    }

    /// `--initial-election-tick-advance`: members that come up among their
    /// peers fast-forward their election clock (etcd's log line and ticks);
    /// with false they do not.
    @Test func initialElectionTickAdvanceFastForwardsElectionTicks() throws {
        for advance in [true, false] {
            let cluster = try ClusterTests.Cluster(extraArgs: ["--initial-election-tick-advance=\(advance)"])
            defer { cluster.stop() }
            try cluster.start()
            _ = try cluster.waitForLeader(among: cluster.members)
            let logs = cluster.members.map(\.log)
            let forwarded = logs.filter {
                $0.contains("\"msg\":\"initialized peer connections; fast-forwarding election ticks\"") && $0.contains("\"forward-ticks\":8")
            }
            if advance {
                #expect(!forwarded.isEmpty, "no member fast-forwarded")
            } else {
                #expect(forwarded.isEmpty)
                #expect(logs.allSatisfy { $0.contains("\"msg\":\"skipping initial election tick advance\"") })
            }
        }
    }

    /// `--heartbeat-interval` and `--election-timeout` set Raft's clock; the
    /// minimum lease TTL a client sees follows them (etcd: 1.5 × election
    /// ticks × heartbeat).
    @Test func heartbeatAndElectionTimeoutSetTheMinimumLeaseTTL() throws {
        for (args, minTTL) in [([String](), 2), (["--heartbeat-interval", "200", "--election-timeout", "4000"], 6)] {
            let server = try ServerProcess(extraArgs: args)
            try server.start()
            defer { server.stop(); server.removeData() }
            let grant = try etcdctl(server.endpoint, ["lease", "grant", "1"])
            #expect(grant.stdout.contains("granted with TTL(\(minTTL)s)"), "\(args): \(grant.stdout) \(grant.stderr)")
        }
    }

    /// `--experimental-compact-hash-check-enabled`: a follower whose store
    /// was silently changed is found by the leader's check of the hashes
    /// after the latest compaction, and gets the CORRUPT alarm.
    @Test func compactHashCheckAlarmsACorruptedFollower() throws {
        let cluster = try ClusterTests.Cluster(extraArgs: ["--experimental-compact-hash-check-enabled",
                                                           "--experimental-compact-hash-check-time", "1s"])
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        for i in 0..<10 { #expect(try etcdctl(cluster.endpoints, ["put", "key-\(i)", "value-\(i)"]).exitCode == 0) }
        // A member whose status names it (a failed status must not make the leader the victim).
        var found: (ServerProcess, UInt64)?
        eventually {
            found = cluster.members.lazy.compactMap { m in cluster.status(m).map { (m, $0.memberID) } }.first { $0.1 != leaderID }
            return found != nil
        }
        guard let (victim, victimID) = found else {
            Issue.record("no follower answered its status")
            return
        }
        // The follower has applied every put before it stops (its revision is the cluster's).
        let clusterRev = try etcdctl(cluster.endpoints, ["get", "key-9", "-w", "json"]).stdout
        let target = Double((try JSONSerialization.jsonObject(with: Data(clusterRev.utf8)) as? [String: Any])
            .flatMap { $0["header"] as? [String: Any] }.flatMap { $0["revision"] as? NSNumber }?.int64Value ?? 11)
        #expect(try eventually { try MetricsTests.scrape(victim.clientURL).value("etcd_debugging_mvcc_current_revision") >= target },
                "the follower never applied revision \(target)")
        victim.stopTimed(signal: SIGTERM)
        let corrupt = try ProcessRunner.run(try CorruptionCheckTests.corruptTool, [victim.dataDir + "/member/snap/db"])
        #expect(corrupt.exitCode == 0, "\(corrupt.stderr)")
        try victim.start()
        _ = try cluster.waitForLeader(among: cluster.members)  // a restarting member refuses requests until it knows one
        // Compact just below the newest (now corrupted) record, so the hash after it covers it.
        let rev = try MetricsTests.scrape(victim.clientURL).value("etcd_debugging_mvcc_current_revision")
        let compact = try etcdctl(cluster.endpoints, ["compact", String(Int(rev) - 1)])
        #expect(compact.exitCode == 0, "rev \(rev): \(compact.stdout) \(compact.stderr)")
        var alarms = ""
        let alarmed = eventually {
            alarms = (try? etcdctl(cluster.endpoints, ["alarm", "list"]).stdout) ?? ""
            return alarms.contains("memberID:\(victimID) alarm:CORRUPT")
        }
        let checks = cluster.members.map(\.log).joined().split(separator: "\n").filter { $0.contains("compact") && $0.contains("hash") }
        #expect(alarmed, "victim \(victimID): \(alarms) \(checks.suffix(20))")
    }
}
