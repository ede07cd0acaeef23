import Foundation
import Testing

/// Runtime reconfiguration from a single member, with real etcdctl:
/// etcd's documented flow `member add` → start the new member with
/// `--initial-cluster-state existing`, and `--strict-reconfig-check`.
@Suite(.serialized) struct MemberReconfigTests {
    /// Runs an etcdctl command until the strict reconfiguration check stops
    /// answering "unhealthy cluster" (etcd wants the peers connected for 5 s
    /// first); returns the last result.
    static func retryingUnhealthy(_ endpoint: String, _ args: [String], seconds: Double = 60) throws -> CommandResult {
        let deadline = Date().addingTimeInterval(seconds)
        var result: CommandResult
        repeat {
            result = try etcdctl(endpoint, args)
            if !result.stderr.contains("etcdserver: unhealthy cluster") { break }
            usleep(500_000)
        } while Date() < deadline
        return result
    }

    static func addMember(_ endpoint: String, _ args: [String]) throws -> CommandResult {
        try retryingUnhealthy(endpoint, ["member", "add"] + args)
    }

    /// `member remove` of `victim` (hex `id`) through `endpoint`, retrying
    /// while the strict check says "unhealthy cluster"; expects success and
    /// that the removed member stops itself.
    static func removeAndExpectExit(_ endpoint: String, _ id: String, _ victim: ServerProcess) throws {
        let removed = try retryingUnhealthy(endpoint, ["member", "remove", id])
        #expect(removed.exitCode == 0, "\(removed.stderr)")
        let deadline = Date().addingTimeInterval(60)
        while victim.process?.isRunning == true && Date() < deadline { usleep(100_000) }
        #expect(victim.process?.isRunning != true, "removed member still running: \(victim.logTail())")
    }

    /// etcdctl's `ETCD_INITIAL_CLUSTER="..."` line of a `member add`.
    static func initialCluster(of add: CommandResult) throws -> String {
        let line = try #require(add.stdout.split(separator: "\n").first { $0.hasPrefix("ETCD_INITIAL_CLUSTER=") })
        return String(line.dropFirst("ETCD_INITIAL_CLUSTER=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// The ID etcdctl printed: "Member 94bca111960536a4 added to cluster …".
    static func addedID(_ add: CommandResult) throws -> String {
        let words = add.stdout.split(separator: " ")
        return String(try #require(words.count > 1 ? words[1] : nil))
    }

    /// Waits until `m` serves `key` = `value` from its own store (serializable).
    static func waitForValue(_ m: ServerProcess, _ key: String, _ value: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let got = (try? etcdctl(m.endpoint, ["get", key, "--print-value-only", "--consistency=s"]))?.stdout
            if got == value + "\n" { return true }
            usleep(200_000)
        } while Date() < deadline
        return false
    }

    @Test func singleMemberGrowsToThreeThenShrinks() throws {
        let token = "grow-\(UUID().uuidString.prefix(8))"
        let first = try ServerProcess(name: "m1", extraArgs: ["--initial-cluster-token", token])
        var started = [first]
        defer { for m in started { m.stop(); m.removeData() } }
        try first.start()
        for i in 0..<20 { _ = try etcdctl(first.endpoint, ["put", "before/\(i)", "v\(i)"]) }

        // Member 2: a voter added to the single member, started as etcdctl says.
        let peer2 = freePort()
        let add2 = try Self.addMember(first.endpoint, ["m2", "--peer-urls", "http://127.0.0.1:\(peer2)"])
        #expect(add2.exitCode == 0, "\(add2.stderr)\n\(first.logTail())")
        #expect(add2.stdout.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""), "\(add2.stdout)")
        let second = try ServerProcess(name: "m2", extraArgs: ["--initial-cluster-token", token, "--initial-cluster-state", "existing"],
                                       peerPort: peer2, initialCluster: try Self.initialCluster(of: add2))
        started.append(second)
        try second.start()
        #expect(Self.waitForValue(second, "before/19", "v19"), "member 2 did not catch up: \(second.logTail())")
        let put2 = try etcdctl(second.endpoint, ["put", "via-m2", "yes"])
        #expect(put2.exitCode == 0, "\(put2.stderr)\n\(second.logTail())")
        #expect(try etcdctl(first.endpoint, ["get", "via-m2", "--print-value-only"]).stdout == "yes\n")
        // Member 2 knows itself by the ID MemberAdd chose.
        let id2 = try Self.addedID(add2)
        #expect(try etcdctl(second.endpoint, ["endpoint", "status"]).stdout.contains(id2))

        // Member 3, added through member 2 (a Raft proposal from any member).
        let peer3 = freePort()
        let add3 = try Self.addMember(second.endpoint, ["m3", "--peer-urls", "http://127.0.0.1:\(peer3)"])
        #expect(add3.exitCode == 0, "\(add3.stderr)\n\(second.logTail())")
        let third = try ServerProcess(name: "m3", extraArgs: ["--initial-cluster-token", token, "--initial-cluster-state", "existing"],
                                      peerPort: peer3, initialCluster: try Self.initialCluster(of: add3))
        started.append(third)
        try third.start()
        #expect(Self.waitForValue(third, "via-m2", "yes"), "member 3 did not catch up: \(third.logTail())")
        #expect(Self.waitForValue(third, "before/0", "v0"))
        let list = try etcdctl(third.endpoint, ["member", "list"])
        #expect(list.stdout.split(separator: "\n").count == 3, "\(list.stdout)")

        // Remove member 2 (retrying while it has been connected under 5 s); it stops itself.
        try Self.removeAndExpectExit(first.endpoint, id2, second)
        let put3 = try etcdctl(third.endpoint, ["put", "after-remove", "ok"])
        #expect(put3.exitCode == 0, "\(put3.stderr)")
        #expect(try etcdctl(first.endpoint, ["get", "after-remove", "--print-value-only"]).stdout == "ok\n")

        // Added again with the same peer URLs: etcd mixes the time into the ID.
        let again = try Self.addMember(first.endpoint, ["m2", "--peer-urls", "http://127.0.0.1:\(peer2)", "--learner"])
        #expect(again.exitCode == 0, "\(again.stderr)")
        #expect(try Self.addedID(again) != id2, "\(again.stdout)")
    }

    /// With one started member and one added but never started, a third
    /// voter or removing the started one would leave no started quorum, and
    /// a learner would join a cluster whose voters are not all connected:
    /// etcd refuses all three before proposing (the same words as etcd 3.5.1).
    @Test func strictReconfigCheckRefusesChangesWithoutAStartedQuorum() throws {
        let first = try ServerProcess(name: "m1")
        defer { first.stop(); first.removeData() }
        try first.start()
        let add = try etcdctl(first.endpoint, ["member", "add", "m2", "--peer-urls", "http://127.0.0.1:\(freePort())"])
        #expect(add.exitCode == 0, "\(add.stderr)")
        let third = try etcdctl(first.endpoint, ["member", "add", "m3", "--peer-urls", "http://127.0.0.1:\(freePort())"])
        #expect(third.exitCode != 0)
        #expect(third.stderr.contains("etcdserver: re-configuration failed due to not enough started members"), "\(third.stderr)")
        // A learner passes the started check but m2 is not connected (etcd 3.5.1 refuses it the same way).
        let learner = try etcdctl(first.endpoint, ["member", "add", "l3", "--learner", "--peer-urls", "http://127.0.0.1:\(freePort())"])
        #expect(learner.exitCode != 0)
        #expect(learner.stderr.contains("etcdserver: unhealthy cluster"), "\(learner.stderr)")
        let ownID = try #require(try etcdctl(first.endpoint, ["member", "list"]).stdout
            .split(separator: "\n").first { $0.contains(", m1,") }?.split(separator: ",").first)
        let remove = try etcdctl(first.endpoint, ["member", "remove", String(ownID)])
        #expect(remove.stderr.contains("etcdserver: re-configuration failed due to not enough started members"), "\(remove.stderr)")
    }

    /// A second member on a taken peer port fails with etcd's words and
    /// leaves no data dir behind.
    @Test func takenPeerPortFailsStartUpClearly() throws {
        let first = try ServerProcess(name: "m1")
        defer { first.stop(); first.removeData() }
        try first.start()
        let clash = try ServerProcess(name: "m1", peerPort: first.peerPort)
        defer { clash.stop(); clash.removeData() }
        #expect(throws: TestSetupError.self) { try clash.start(timeoutSeconds: 10) }
        #expect(clash.log.contains("listen tcp 127.0.0.1:\(first.peerPort): bind: address already in use"), "\(clash.logTail())")
        #expect(!FileManager.default.fileExists(atPath: clash.dataDir + "/member/wal"))
    }
}
