import Foundation
import Linearizability
import Testing

/// A 3-member cluster under faults — the leader killed with SIGKILL and
/// restarted, a follower paused, the leader paused for longer than an
/// election timeout — while Go clients record a history of puts,
/// linearizable gets and compare-and-set txns; the history must be
/// linearizable. Network partitions are not injected: they need iptables
/// or network namespaces with per-member addresses, which this suite does
/// not assume.
@Suite(.serialized) struct ClusterLinearizabilityTests {
    typealias Cluster = ClusterTests.Cluster

    @Test func historyUnderKillsAndPausesIsLinearizable() throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)

        let seed = Int.random(in: 1...1_000_000)
        let historyPath = NSTemporaryDirectory() + "linhistory-\(seed).jsonl"
        let recorder = Process()
        recorder.executableURL = URL(fileURLWithPath: try GoPrograms.binary("linhistory"))
        recorder.arguments = ["-endpoints", cluster.endpoints, "-clients", "8", "-keys", "12",
                              "-duration", "24s", "-timeout", "1s", "-seed", String(seed), "-out", historyPath]
        let stderrPath = historyPath + ".stderr"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        recorder.standardError = FileHandle(forWritingAtPath: stderrPath)
        recorder.standardOutput = FileHandle.nullDevice
        let started = Date()
        try recorder.run()
        defer { if recorder.isRunning { recorder.terminate() } }

        var faults: [String] = []
        func at(_ seconds: Double) { usleep(UInt32(max(0, seconds - Date().timeIntervalSince(started)) * 1_000_000)) }

        // 1. Kill the leader, let the others elect a new one, restart it.
        at(3)
        let firstLeader = try leader(of: cluster, among: cluster.members)
        firstLeader.stop(signal: SIGKILL)
        faults.append("\(Date().timeIntervalSince(started))s: SIGKILL leader \(firstLeader.name)")
        let survivors = cluster.members.filter { $0 !== firstLeader }
        let oldID = try #require(cluster.status(survivors[0])?.leader)
        _ = try cluster.waitForLeader(among: survivors, excluding: oldID, seconds: 30)
        at(7)
        try firstLeader.start()
        faults.append("\(Date().timeIntervalSince(started))s: restarted \(firstLeader.name)")

        // 2. Pause a follower for a few seconds.
        at(10)
        _ = try cluster.waitForLeader(among: cluster.members, seconds: 10)
        let leaderNow = try leader(of: cluster, among: cluster.members)
        let follower = try #require(cluster.members.first { $0 !== leaderNow })
        let followerPID = try #require(follower.process).processIdentifier
        kill(followerPID, SIGSTOP)
        faults.append("\(Date().timeIntervalSince(started))s: SIGSTOP follower \(follower.name)")
        at(13)
        kill(followerPID, SIGCONT)
        faults.append("\(Date().timeIntervalSince(started))s: SIGCONT \(follower.name)")

        // 3. Pause the leader past an election timeout: a new leader takes
        //    over while the old one still believes it leads, then resumes.
        at(15)
        let pausedLeader = try leader(of: cluster, among: cluster.members)
        let leaderPID = try #require(pausedLeader.process).processIdentifier
        kill(leaderPID, SIGSTOP)
        faults.append("\(Date().timeIntervalSince(started))s: SIGSTOP leader \(pausedLeader.name)")
        at(18.5)
        kill(leaderPID, SIGCONT)
        faults.append("\(Date().timeIntervalSince(started))s: SIGCONT \(pausedLeader.name)")

        // Let the recorder finish (24 s of operations, then in-flight ones time out).
        let deadline = Date().addingTimeInterval(60)
        while recorder.isRunning, Date() < deadline { usleep(100_000) }
        let summary = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        try #require(!recorder.isRunning && recorder.terminationStatus == 0, "linhistory: \(summary)")

        let history = try History.parse(jsonLines: String(contentsOfFile: historyPath, encoding: .utf8))
        let definite = history.filter { $0.outcome != .unknown }
        let afterFaults = definite.filter { $0.invokeNs > 19_000_000_000 }
        let result = LinearizabilityChecker().check(history)
        let context = "seed=\(seed) history=\(historyPath) faults=\(faults) \(summary)"
        #expect(result.isLinearizable, "\(result)\n\(context)")
        // Enough happened for the verdict to mean something, including after the faults.
        #expect(definite.count >= 500, "\(context)")
        #expect(afterFaults.count >= 50, "no progress after the faults: \(context)")
        for kind in ["put", "get", "cas"] {
            #expect(definite.contains { op in
                switch (kind, op.call) {
                case ("put", .put), ("get", .get), ("cas", .compareAndSet): return true
                default: return false
                }
            }, "no successful \(kind): \(context)")
        }
        if result.isLinearizable {
            try? FileManager.default.removeItem(atPath: historyPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
        }
    }

    /// The running member every running member names as leader.
    private func leader(of cluster: Cluster, among running: [ServerProcess]) throws -> ServerProcess {
        let id = try cluster.waitForLeader(among: running)
        return try #require(running.first { cluster.status($0)?.memberID == id })
    }
}
