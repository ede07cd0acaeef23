import Foundation
import Testing

/// `etcdctl member add --learner` / `promote` / `remove` against a 3-member
/// cluster with etcd's checks; the added learner is not started here.
@Suite(.serialized) struct MemberAddTests {
    @Test func addLearnerChecksPromoteRefusedRemove() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        let leader = try #require(cluster.members.first { cluster.status($0)?.memberID == leaderID })
        let newURL = "http://127.0.0.1:\(freePort())"

        let add = try MemberReconfigTests.addMember(leader.endpoint, ["m4", "--peer-urls", newURL, "--learner"])
        #expect(add.exitCode == 0, "\(add.stderr)\n\(leader.logTail())")
        #expect(add.stdout.contains("added to cluster") && add.stdout.contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\""),
                "\(add.stdout)")
        let list = try etcdctl(cluster.members[1].endpoint, ["member", "list", "-w", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
        let members = json?["members"] as? [[String: Any]] ?? []
        let learner = try #require(members.first { ($0["peerURLs"] as? [String]) == [newURL] }, "\(list.stdout)")
        #expect(learner["isLearner"] as? Bool == true, "\(learner)")
        #expect(members.count == 4)
        let learnerID = try #require((learner["ID"] as? NSNumber)?.uint64Value)
        let hexID = String(learnerID, radix: 16)

        let second = try MemberReconfigTests.addMember(leader.endpoint, ["m5", "--peer-urls", "http://127.0.0.1:\(freePort())", "--learner"])
        #expect(second.stderr.contains("etcdserver: too many learner members in cluster"), "\(second.stderr)")
        let dup = try MemberReconfigTests.retryingUnhealthy(leader.endpoint, ["member", "add", "m6", "--peer-urls", newURL])
        #expect(dup.stderr.contains("etcdserver: Peer URLs already exists"), "\(dup.stderr)")
        // Never started, so never in sync.
        let promote = try etcdctl(leader.endpoint, ["member", "promote", hexID])
        #expect(promote.stderr.contains("etcdserver: can only promote a learner member which is in sync with leader"),
                "\(promote.stderr)")
        let missing = try etcdctl(leader.endpoint, ["member", "promote", "1234abcd"])
        #expect(missing.stderr.contains("etcdserver: member not found"), "\(missing.stderr)")
        // A follower forwards MemberPromote to the leader and relays its answer (etcd does the same).
        let follower = try #require(cluster.members.first { $0 !== leader })
        let viaFollower = try etcdctl(follower.endpoint, ["member", "promote", hexID])
        #expect(viaFollower.stderr.contains("etcdserver: can only promote a learner member which is in sync with leader"),
                "\(viaFollower.stderr)\n\(follower.logTail())")
        let missingViaFollower = try etcdctl(follower.endpoint, ["member", "promote", "1234abcd"])
        #expect(missingViaFollower.stderr.contains("etcdserver: member not found"), "\(missingViaFollower.stderr)")
        let voterViaFollower = try etcdctl(follower.endpoint, ["member", "promote", String(leaderID, radix: 16)])
        #expect(voterViaFollower.stderr.contains("etcdserver: can only promote a learner member"), "\(voterViaFollower.stderr)")

        // MemberUpdate: new peer URLs for the learner; etcd's errors.
        let movedURL = "http://127.0.0.1:\(freePort())"
        let update = try etcdctl(leader.endpoint, ["member", "update", hexID, "--peer-urls", movedURL])
        #expect(update.exitCode == 0, "\(update.stderr)")
        let updated = try etcdctl(cluster.members[1].endpoint, ["member", "list"])
        #expect(updated.stdout.contains(movedURL) && !updated.stdout.contains(newURL), "\(updated.stdout)")
        let clash = try etcdctl(leader.endpoint, ["member", "update", hexID, "--peer-urls", "http://127.0.0.1:\(cluster.members[0].peerPort)"])
        #expect(clash.stderr.contains("etcdserver: Peer URLs already exists"), "\(clash.stderr)")
        let nobody = try etcdctl(leader.endpoint, ["member", "update", "1234abcd", "--peer-urls", "http://127.0.0.1:1"])
        #expect(nobody.stderr.contains("etcdserver: member not found"), "\(nobody.stderr)")

        let remove = try etcdctl(leader.endpoint, ["member", "remove", hexID])
        #expect(remove.exitCode == 0, "\(remove.stderr)")
        let after = try etcdctl(cluster.members[2].endpoint, ["member", "list"])
        #expect(after.stdout.split(separator: "\n").count == 3, "\(after.stdout)")
        let put = try etcdctl(cluster.members[2].endpoint, ["put", "after-learner", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    /// etcd's documented flow: `member add --learner`, start the new member
    /// with `--initial-cluster-state existing` and etcdctl's initial cluster,
    /// it catches up from the leader's log, `member promote`, then `member
    /// remove` of another member, which stops; the cluster keeps serving.
    @Test func learnerJoinsCatchesUpIsPromotedAndAnotherMemberIsRemoved() throws {
        let cluster = try ClusterTests.Cluster()
        var extra: [ServerProcess] = []
        defer { cluster.stop(); for m in extra { m.stop(); m.removeData() } }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        let leader = try #require(cluster.members.first { cluster.status($0)?.memberID == leaderID })
        for i in 0..<20 { _ = try etcdctl(leader.endpoint, ["put", "before-join/\(i)", "v\(i)"]) }

        let peerPort = freePort(), clientPort = freePort()
        let add = try MemberReconfigTests.addMember(leader.endpoint, ["m4", "--peer-urls", "http://127.0.0.1:\(peerPort)", "--learner"])
        #expect(add.exitCode == 0, "\(add.stderr)")
        let initial = try MemberReconfigTests.initialCluster(of: add)
        let token = try #require(cluster.members[0].arguments.drop { $0 != "--initial-cluster-token" }.dropFirst().first)
        let joiner = try ServerProcess(name: "m4", extraArgs: ["--initial-cluster-token", token, "--initial-cluster-state", "existing"],
                                       clientPort: clientPort, peerPort: peerPort, initialCluster: initial)
        extra.append(joiner)
        try joiner.start()

        #expect(MemberReconfigTests.waitForValue(joiner, "before-join/19", "v19"), "joiner did not catch up: \(joiner.logTail())")
        let joinerID = try #require(cluster.status(joiner)?.memberID)
        // A learner serves Status and serializable reads only.
        let refused = try etcdctl(joiner.endpoint, ["put", "on-learner", "v"])
        #expect(refused.exitCode != 0 && refused.stderr.contains("etcdserver: rpc not supported for learner"), "\(refused.stderr)")
        let linearizable = try etcdctl(joiner.endpoint, ["get", "before-join/0"])
        #expect(linearizable.stderr.contains("etcdserver: rpc not supported for learner"), "\(linearizable.stderr)")
        // etcd's checks while the learner is in the cluster.
        let follower = try #require(cluster.members.first { $0 !== leader })
        let secondLearner = try MemberReconfigTests.addMember(follower.endpoint, ["m5", "--peer-urls", "http://127.0.0.1:\(freePort())", "--learner"])
        #expect(secondLearner.stderr.contains("etcdserver: too many learner members in cluster"), "\(secondLearner.stderr)")
        let sameURL = try MemberReconfigTests.retryingUnhealthy(follower.endpoint,
                                                                ["member", "add", "m6", "--peer-urls", "http://127.0.0.1:\(peerPort)"])
        #expect(sameURL.stderr.contains("etcdserver: Peer URLs already exists"), "\(sameURL.stderr)")
        let unknown = try etcdctl(follower.endpoint, ["member", "remove", "1234abcd"])
        #expect(unknown.stderr.contains("etcdserver: member not found"), "\(unknown.stderr)")

        // Promoted through a follower, which forwards to the leader.
        var promoted = CommandResult(exitCode: 1, stdout: "", stderr: "")
        let promoteDeadline = Date().addingTimeInterval(60)
        repeat {
            promoted = try etcdctl(follower.endpoint, ["member", "promote", String(joinerID, radix: 16)])
            if promoted.exitCode == 0 { break }
            usleep(200_000)
        } while Date() < promoteDeadline
        #expect(promoted.exitCode == 0, "\(promoted.stderr)\n\(leader.logTail())")

        #expect(promoted.stdout.contains("promoted"), "\(promoted.stdout)")
        let victim = follower
        let victimID = try #require(cluster.status(victim)?.memberID)
        // The joiner connected moments ago: etcd's strict check wants 5 s of connection first.
        try MemberReconfigTests.removeAndExpectExit(leader.endpoint, String(victimID, radix: 16), victim)

        let put = try etcdctl(joiner.endpoint, ["put", "after-join", "yes"])
        #expect(put.exitCode == 0, "\(put.stderr)\n\(joiner.logTail())")
        let get = try etcdctl(leader.endpoint, ["get", "after-join", "--print-value-only"])
        #expect(get.stdout == "yes\n", "\(get.stderr)")
        let list = try etcdctl(joiner.endpoint, ["member", "list"])
        #expect(list.stdout.split(separator: "\n").count == 3 && !list.stdout.contains("true"), "\(list.stdout)")
    }
}
