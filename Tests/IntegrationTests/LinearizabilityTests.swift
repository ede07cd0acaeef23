import Foundation
import Linearizability
import Testing

/// A 3-member cluster under faults — the leader killed with SIGKILL and
/// restarted, a follower paused, the leader paused for longer than an
/// election timeout, a follower killed and restarted at once — while Go
/// clients record a history of puts, linearizable gets and compare-and-set
/// txns; the history must be linearizable. A second test partitions members with network namespaces
/// where it may (root).
@Suite(.serialized) struct ClusterLinearizabilityTests {
    typealias Cluster = ClusterTests.Cluster

    @Test func historyUnderKillsAndPausesIsLinearizable() throws {
        let cluster = try Cluster()
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)

        try recordAndCheck(endpoints: cluster.endpoints) { fault in
            // 1. Kill the leader, let the others elect a new one, restart it.
            pause(3)
            let firstLeader = try leader(of: cluster, among: cluster.members)
            firstLeader.stop(signal: SIGKILL)
            fault("SIGKILL leader \(firstLeader.name)")
            let survivors = cluster.members.filter { $0 !== firstLeader }
            let oldID = try #require(cluster.status(survivors[0])?.leader)
            _ = try cluster.waitForLeader(among: survivors, excluding: oldID, seconds: 30)
            pause(2)
            try firstLeader.start()
            fault("restarted \(firstLeader.name)")

            // 2. Pause a follower for a few seconds.
            pause(2)
            let leaderNow = try leader(of: cluster, among: cluster.members)
            let follower = try #require(cluster.members.first { $0 !== leaderNow })
            let followerPID = try #require(follower.process).processIdentifier
            kill(followerPID, SIGSTOP)
            fault("SIGSTOP follower \(follower.name)")
            pause(3)
            kill(followerPID, SIGCONT)
            fault("SIGCONT \(follower.name)")

            // 3. Pause the leader past an election timeout: a new leader takes
            //    over while the old one still believes it leads, then resumes.
            pause(2)
            let pausedLeader = try leader(of: cluster, among: cluster.members)
            let leaderPID = try #require(pausedLeader.process).processIdentifier
            kill(leaderPID, SIGSTOP)
            fault("SIGSTOP leader \(pausedLeader.name)")
            pause(3.5)
            kill(leaderPID, SIGCONT)
            fault("SIGCONT \(pausedLeader.name)")

            // 4. Crash a follower and restart it at once (WAL recovery while the others serve).
            pause(2)
            let newLeader = try leader(of: cluster, among: cluster.members)
            let crashed = try #require(cluster.members.first { $0 !== newLeader })
            crashed.stop(signal: SIGKILL)
            fault("SIGKILL follower \(crashed.name)")
            try crashed.start()
            fault("restarted \(crashed.name)")
        }
    }

    /// Members in network namespaces: the leader's peer link is cut while
    /// its clients still reach it (it must neither acknowledge writes nor
    /// serve reads it cannot vouch for), healed, then a follower's is cut.
    /// Skipped where network namespaces cannot be created (not root).
    @Test func historyUnderPartitionsIsLinearizable() throws {
        guard let cluster = NetnsCluster.make() else {
            print("linearizability: network namespaces unavailable (needs root and ip netns); partition test skipped")
            return
        }
        defer { cluster.destroy() }
        try cluster.startAll()
        let all = Array(cluster.members.indices)
        _ = try cluster.leader(among: all)

        // LINCHECK_ROUNDS=n repeats the faults (a longer soak; the default run is one round).
        let rounds = Int(ProcessInfo.processInfo.environment["LINCHECK_ROUNDS"] ?? "") ?? 1
        try recordAndCheck(endpoints: cluster.endpoints, onFailure: {
            cluster.keepsFiles = true
            print("linearizability: member logs kept at \(cluster.members.map { $0.dataDir + ".log" })")
        }) { fault in
            for round in 0..<rounds {
                // Alternate a cut just past an election timeout with a longer one.
                let cutSeconds = round % 2 == 0 ? 3.0 : 1.5
                pause(3)
                let isolated = try cluster.leader(among: all)
                try cluster.setPeerLink(isolated, up: false)
                fault("peer link of leader \(cluster.members[isolated].name) down")
                let majority = all.filter { $0 != isolated }
                _ = try cluster.leader(among: majority, seconds: 30)
                pause(cutSeconds)
                try cluster.setPeerLink(isolated, up: true)
                fault("peer link of \(cluster.members[isolated].name) up")

                pause(3)
                let leaderNow = try cluster.leader(among: all)
                let follower = try #require(all.filter { $0 != leaderNow }.randomElement())
                try cluster.setPeerLink(follower, up: false)
                fault("peer link of follower \(cluster.members[follower].name) down")
                pause(cutSeconds)
                try cluster.setPeerLink(follower, up: true)
                fault("peer link of \(cluster.members[follower].name) up")
                _ = try cluster.leader(among: all, seconds: 30)
            }
        }
    }

    /// Runs linhistory against `endpoints` while `faults` injects faults
    /// (calling its argument to log each), lets it run 4 s more, stops it and
    /// checks the history: linearizable, and enough definite operations —
    /// also after the last fault — for that to mean something.
    private func recordAndCheck(endpoints: String, onFailure: () -> Void = {},
                                faults: (_ fault: (String) -> Void) throws -> Void) throws {
        let seed = Int.random(in: 1...1_000_000)
        let historyPath = NSTemporaryDirectory() + "linhistory-\(seed).jsonl"
        let recorder = Process()
        recorder.executableURL = URL(fileURLWithPath: try GoPrograms.binary("linhistory"))
        // Runs until SIGTERM (at most 10 min).
        recorder.arguments = ["-endpoints", endpoints, "-clients", "8", "-keys", "12",
                              "-duration", "600s", "-timeout", "1s", "-seed", String(seed), "-out", historyPath]
        let stderrPath = historyPath + ".stderr"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        recorder.standardError = FileHandle(forWritingAtPath: stderrPath)
        recorder.standardOutput = FileHandle.nullDevice
        let started = Date()
        try recorder.run()
        defer { if recorder.isRunning { recorder.terminate() } }

        var log: [String] = []
        try faults { log.append(String(format: "%.1fs: ", Date().timeIntervalSince(started)) + $0) }
        let faultsEndNs = Int64(Date().timeIntervalSince(started) * 1e9)

        // Operations after the faults, then stop the recorder (in-flight ops finish or time out).
        pause(4)
        recorder.terminate()
        let deadline = Date().addingTimeInterval(30)
        while recorder.isRunning, Date() < deadline { usleep(100_000) }
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let summary = stderr.split(separator: "\n").last { $0.hasPrefix("linhistory:") }.map(String.init) ?? stderr
        try #require(!recorder.isRunning && recorder.terminationStatus == 0, "linhistory: \(summary)")

        let history = try History.parse(jsonLines: String(contentsOfFile: historyPath, encoding: .utf8))
        let definite = history.filter { $0.outcome != .unknown }
        let afterFaults = definite.filter { $0.invokeNs > faultsEndNs }
        let result = LinearizabilityChecker().check(history)
        let context = "seed=\(seed) history=\(historyPath) faults=\(log) \(summary)"
        #expect(result.isLinearizable, "\(result)\n\(context)")
        if !result.isLinearizable { onFailure() }
        #expect(definite.count >= 500, "\(context)")
        #expect(afterFaults.count >= 50, "no progress after the faults: \(context)")
        for kind in ["put", "get", "cas"] {
            #expect(definite.contains { op in
                switch (kind, op.call, op.outcome) {
                case ("put", .put, _), ("get", .get, _), ("cas", .compareAndSet, .swapped(true)): return true
                default: return false
                }
            }, "no successful \(kind): \(context)")
        }
        print("linearizability: \(result.operationCount) ops (\(definite.count) definite, \(afterFaults.count) after the faults), "
            + "\(summary); faults: \(log)")
        if result.isLinearizable, ProcessInfo.processInfo.environment["LINCHECK_KEEP_HISTORY"] == nil {
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

private func pause(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }
