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

        let add = try etcdctl(leader.endpoint, ["member", "add", "m4", "--peer-urls", newURL, "--learner"])
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

        let second = try etcdctl(leader.endpoint, ["member", "add", "m5", "--peer-urls", "http://127.0.0.1:\(freePort())", "--learner"])
        #expect(second.stderr.contains("etcdserver: too many learner members in cluster"), "\(second.stderr)")
        let dup = try etcdctl(leader.endpoint, ["member", "add", "m6", "--peer-urls", newURL])
        #expect(dup.stderr.contains("etcdserver: Peer URLs already exists"), "\(dup.stderr)")
        // Never started, so never in sync.
        let promote = try etcdctl(leader.endpoint, ["member", "promote", hexID])
        #expect(promote.stderr.contains("etcdserver: can only promote a learner member which is in sync with leader"),
                "\(promote.stderr)")
        let missing = try etcdctl(leader.endpoint, ["member", "promote", "1234abcd"])
        #expect(missing.stderr.contains("etcdserver: member not found"), "\(missing.stderr)")

        let remove = try etcdctl(leader.endpoint, ["member", "remove", hexID])
        #expect(remove.exitCode == 0, "\(remove.stderr)")
        let after = try etcdctl(cluster.members[2].endpoint, ["member", "list"])
        #expect(after.stdout.split(separator: "\n").count == 3, "\(after.stdout)")
        let put = try etcdctl(cluster.members[2].endpoint, ["put", "after-learner", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }
}
