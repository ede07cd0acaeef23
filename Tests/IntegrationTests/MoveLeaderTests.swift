import Foundation
import Testing

/// `etcdctl move-leader` against a 3-member cluster: leadership moves to the
/// named member; etcd's errors for no leader endpoint and an unknown transferee.
@Suite(.serialized) struct MoveLeaderTests {
    @Test func moveLeaderToAFollowerAndEtcdErrors() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        let leader = try #require(cluster.members.first { cluster.status($0)?.memberID == leaderID })
        let follower = try #require(cluster.members.first { cluster.status($0)?.memberID != leaderID })
        let targetID = try #require(cluster.status(follower)?.memberID)
        let target = String(targetID, radix: 16)

        // etcdctl asks each endpoint's Status for the leader first.
        let noLeader = try etcdctl(follower.endpoint, ["move-leader", target])
        #expect(noLeader.exitCode != 0 && noLeader.stderr.contains("no leader endpoint given"), "\(noLeader.stderr)")
        // An ID that is no member: "bad leader transferee".
        let bad = try etcdctl(leader.endpoint, ["move-leader", "1234abcd"])
        #expect(bad.exitCode != 0 && bad.stderr.contains("etcdserver: bad leader transferee"), "\(bad.stderr)")

        let moved = try etcdctl(leader.endpoint, ["move-leader", target])
        #expect(moved.exitCode == 0, "\(moved.stderr)\n\(leader.logTail())")
        #expect(moved.stdout.contains("Leadership transferred from \(String(leaderID, radix: 16)) to \(target)"), "\(moved.stdout)")
        #expect(try cluster.waitForLeader(among: cluster.members) == targetID)
        let put = try etcdctl(leader.endpoint, ["put", "after-move", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    /// A ready member that lost its peers knows no leader: a request with
    /// `hasleader: true` metadata gets etcd's "no leader", one without it is served.
    /// While the leader hands over to a transferee that does not answer
    /// (stopped), a write on the leader gets etcd 3.5.1's answer, Unknown
    /// "raft proposal dropped" (it used to be "etcdserver: no leader").
    @Test func writeOnTheLeaderDuringATransferIsDropped() throws {
        // A longer election timeout: the transfer waits that long for the transferee.
        let cluster = try ClusterTests.Cluster(extraArgs: ["--election-timeout", "3000"])
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        let leader = try #require(cluster.members.first { cluster.status($0)?.memberID == leaderID })
        let follower = try #require(cluster.members.first { cluster.status($0)?.memberID != leaderID })
        let target = String(try #require(cluster.status(follower)?.memberID), radix: 16)
        let pid = try #require(follower.pid)
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let move = try ProcessRunner.start("etcdctl", ["--endpoints", leader.endpoint, "--command-timeout", "30s",
                                                       "move-leader", target], environment: ["ETCDCTL_API": "3"])
        var answers: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !answers.contains(where: { $0.contains("raft proposal dropped") }) {
            let put = try etcdctl(leader.endpoint, ["put", "during-transfer", "v"])
            answers.append(put.exitCode == 0 ? "OK" : put.stderr)
        }
        _ = move.finish(timeoutSeconds: 60)
        #expect(answers.contains { $0.contains("raft proposal dropped") }, "\(answers)")
        #expect(!answers.contains { $0.contains("no leader") }, "\(answers)")
    }

    @Test func hasLeaderMetadataWithoutALeader() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        let lonely = try cluster.startThenLeaveOneAlone()
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("empty-grpc-\(UUID().uuidString)")
        try Data(count: 5).write(to: body)  // one empty gRPC message
        defer { try? FileManager.default.removeItem(at: body) }
        func status(_ extraHeaders: [String]) throws -> String {
            let r = try ProcessRunner.run("curl", ["-s", "-i", "--http2-prior-knowledge", "-H", "content-type: application/grpc",
                                                   "-H", "te: trailers"] + extraHeaders.flatMap { ["-H", $0] } +
                                                  ["--data-binary", "@\(body.path)", "\(lonely.clientURL)/etcdserverpb.Maintenance/Status"])
            return r.stdout
        }
        var refused = ""
        #expect(eventually {  // until the election timeout tells it the leader is gone
            refused = (try? status(["hasleader: true"])) ?? ""
            return refused.contains("grpc-status: 14")
        })
        #expect(refused.contains("etcdserver: no leader"), "\(refused)")
        let served = try status([])
        #expect(served.contains("grpc-status: 0"), "\(served)")
        // A write without a leader waits for one until the request timeout, then gets
        // etcd 3.5.1's answer: Unknown, "context deadline exceeded" (not "request timed out").
        let put = FileManager.default.temporaryDirectory.appendingPathComponent("put-grpc-\(UUID().uuidString)")
        try Data([0, 0, 0, 0, 6, 0x0A, 1, UInt8(ascii: "a"), 0x12, 1, UInt8(ascii: "b")]).write(to: put)
        defer { try? FileManager.default.removeItem(at: put) }
        let answer = try ProcessRunner.run("curl", ["-s", "-i", "--max-time", "120", "--http2-prior-knowledge",
                                                    "-H", "content-type: application/grpc", "-H", "te: trailers",
                                                    "--data-binary", "@\(put.path)", "\(lonely.clientURL)/etcdserverpb.KV/Put"])
        #expect(answer.stdout.contains("grpc-status: 2") && answer.stdout.contains("context deadline exceeded"),
                "\(answer.stdout)")
    }
}
