import Foundation
import Testing

/// Stopping a member as etcd does (issue 19): bounded however many streams
/// are open, no acknowledged write lost, a leader hands over first, a
/// second signal exits at once, a removed member closes its store.
@Suite("Shutdown", .serialized)
struct ShutdownTests {
    /// 500 open watch streams and 100 writers: SIGTERM stops the member
    /// within the request timeout's order of magnitude (each connection's
    /// drain used to wait in turn), and every acknowledged put is there
    /// after a restart.
    @Test func stopUnderLoadIsBoundedAndLosesNoAcknowledgedWrite() throws {
        let server = try ServerProcess()
        try server.start()
        defer { server.stop(); server.removeData() }
        let ackPath = server.dataDir + ".acks"
        let load = try AckWriter(program: "stopload", arguments: ["-endpoint", server.endpoint, "-watchers", "500",
                                                                 "-conns", "10", "-writers", "100"], ackPath: ackPath)
        load.wait(forAcks: 2000, seconds: 60)
        #expect(load.count >= 2000, "writers stalled: \(server.logTail())")
        let stopped = server.stopTimed(signal: SIGTERM)
        load.stop()
        print("shutdown: stop with 500 watch streams and 100 writers took \(String(format: "%.3f", stopped.seconds)) s")
        // As etcd 3.5.1: after the graceful stop (the log lines below) the
        // process ends by the signal it got, so a shell sees 143.
        #expect(stopped.killedBySignal && stopped.status == SIGTERM, "exit \(stopped.status): \(server.logTail())")
        // etcd's bound is its request timeout (5 s + 2 × election timeout = 7 s) per phase.
        #expect(stopped.seconds < 15, "stop took \(stopped.seconds) s")
        let log = server.log
        for line in ["received signal; shutting down", "skipped leadership transfer for single voting member cluster",
                     "closed etcd server"] {
            #expect(log.contains("\"msg\":\"\(line)\""), "missing \(line)")
        }

        let acked = try load.acknowledged()
        try server.start()
        let found = try ackedKeys(on: server)
        let lost = acked.filter { found[$0.key] != $0.revision }
        #expect(lost.isEmpty, "\(lost.count) of \(acked.count) acknowledged puts lost, e.g. \(lost.prefix(3))")
    }

    /// A leader of a three-member cluster hands leadership to a follower
    /// before it stops (etcd's TransferLeadership): the survivors have a
    /// leader at once, elected in the next term by the transfer (no
    /// election timeout, no pre-vote round).
    @Test func leaderTransfersLeadershipBeforeStopping() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        guard let leader = cluster.members.first(where: { cluster.status($0)?.memberID == leaderID }),
              let term = cluster.status(leader)?.term else {
            Issue.record("no leader process")
            return
        }
        let stopped = leader.stopTimed(signal: SIGTERM)
        #expect(stopped.killedBySignal && stopped.status == SIGTERM, "\(leader.logTail())")
        let log = leader.log
        #expect(log.contains("\"msg\":\"leadership transfer starting\""), "\(leader.logTail())")
        #expect(log.contains("\"msg\":\"leadership transfer finished\""), "\(leader.logTail())")
        #expect(log.contains("starts to transfer leadership to"))
        let survivors = cluster.members.filter { $0 !== leader }
        let newLeader = try cluster.waitForLeader(among: survivors, excluding: leaderID, seconds: 60)
        #expect(newLeader != leaderID)
        let terms = survivors.compactMap { cluster.status($0)?.term }
        #expect(terms.count == 2 && terms.allSatisfy { $0 == term + 1 }, "a transfer elects in the next term: \(term) → \(terms)")
        let put = try etcdctl(survivors.map(\.endpoint).joined(separator: ","), ["put", "after", "stop"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    /// A second SIGTERM while the first stop runs exits at once (128 + 15).
    /// The stop is held up by a leadership transfer to followers that are
    /// SIGSTOPped: the transfer waits the request timeout (5 s + 2 × election
    /// timeout) from after the first signal, so a second signal sent less
    /// than 5 s after the first one certainly arrives while it runs. A test
    /// thread stalled past that leaves the attempt inconclusive (it is run
    /// again on a fresh cluster) unless the second signal still won.
    @Test func secondSignalExitsAtOnce() throws {
        for attempt in 1...3 {
            switch try secondSignalAttempt() {
            case .proved: return
            case .inconclusive(let waited):
                print("shutdown: attempt \(attempt) inconclusive (second signal \(waited) s after the first)")
            }
        }
        Issue.record("three attempts never sent the second signal within 5 s of the first")
    }

    private enum AttemptOutcome { case proved, inconclusive(Double) }

    private func secondSignalAttempt() throws -> AttemptOutcome {
        let cluster = try ClusterTests.Cluster()
        defer {
            for m in cluster.members { if let pid = m.pid { kill(pid, SIGCONT) } }
            cluster.stop()
        }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        guard let leader = cluster.members.first(where: { cluster.status($0)?.memberID == leaderID }),
              let pid = leader.pid else {
            Issue.record("no leader process")
            return .proved
        }
        for f in cluster.members where f !== leader { if let fpid = f.pid { kill(fpid, SIGSTOP) } }
        let firstSignal = Date()
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !leader.log.contains("leadership transfer starting") { usleep(20_000) }
        #expect(leader.log.contains("leadership transfer starting"), "\(leader.logTail())")
        kill(pid, SIGTERM)
        let waited = Date().timeIntervalSince(firstSignal)  // measured after the kill: an upper bound
        let status = leader.waitForExit(seconds: 60)
        let log = leader.log
        let exitedAtOnce = status == 128 + SIGTERM && log.contains("received second signal; exiting immediately")
        if !exitedAtOnce && waited >= 5 { return .inconclusive(waited) }
        #expect(status == 128 + SIGTERM, "exit \(status.map(String.init) ?? "none") (second signal \(waited) s after the first)")
        #expect(log.contains("received second signal; exiting immediately"), "\(leader.logTail())")
        #expect(!log.contains("\"msg\":\"closed etcd server\""))
        return .proved
    }

    /// A member removed from the cluster stops through the graceful path:
    /// it closes its store ("closed etcd server") and exits 0.
    @Test func removedMemberClosesItsStoreBeforeExiting() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        guard let victim = cluster.members.first(where: { cluster.status($0)?.memberID != leaderID }),
              let victimID = cluster.status(victim)?.memberID else {
            Issue.record("no follower")
            return
        }
        // The strict reconfiguration check wants peers connected for 5 s first.
        var remove = try etcdctl(cluster.endpoints, ["member", "remove", String(victimID, radix: 16)])
        let retryUntil = Date().addingTimeInterval(60)
        while remove.exitCode != 0 && remove.stderr.contains("unhealthy cluster") && Date() < retryUntil {
            usleep(500_000)
            remove = try etcdctl(cluster.endpoints, ["member", "remove", String(victimID, radix: 16)])
        }
        #expect(remove.exitCode == 0, "\(remove.stderr)")
        let status = victim.waitForExit(seconds: 60)
        #expect(status == 0, "\(victim.logTail())")
        let log = victim.log
        let removed = log.range(of: "permanently removed from the cluster")
        let closed = log.range(of: "\"msg\":\"closed etcd server\"")
        #expect(removed != nil && closed != nil, "\(victim.logTail())")
        if let removed, let closed { #expect(removed.lowerBound < closed.lowerBound) }
    }
}
