import Foundation
import Testing

/// `etcdctl member remove` of a follower in a 3-member cluster: the member
/// list shrinks, the removed process stops itself, the other two keep serving.
@Suite(.serialized) struct MemberRemoveTests {
    @Test func removeAFollowerItStopsAndTheClusterServes() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        let leader = try #require(cluster.members.first { cluster.status($0)?.memberID == leaderID })
        let victim = try #require(cluster.members.first { cluster.status($0)?.memberID != leaderID })
        let victimID = try #require(cluster.status(victim)?.memberID)
        let survivors = cluster.members.filter { $0 !== victim }

        let unknown = try etcdctl(leader.endpoint, ["member", "remove", "1234abcd"])
        #expect(unknown.exitCode != 0 && unknown.stderr.contains("etcdserver: member not found"), "\(unknown.stderr)")

        // Asked of the other follower: the change goes through the leader.
        // Its peers connected moments ago: etcd's strict reconfiguration
        // check answers "unhealthy cluster" until they have been up 5 s.
        let asker = try #require(survivors.first { $0 !== leader })
        let removed = try MemberReconfigTests.retryingUnhealthy(asker.endpoint, ["member", "remove", String(victimID, radix: 16)])
        #expect(removed.exitCode == 0, "\(removed.stderr)\n\(asker.logTail())")
        #expect(removed.stdout.contains("\(String(victimID, radix: 16)) removed from cluster"), "\(removed.stdout)")

        let deadline = Date().addingTimeInterval(10)
        while victim.process?.isRunning == true && Date() < deadline { usleep(100_000) }
        #expect(victim.process?.isRunning != true, "removed member still running: \(victim.logTail())")
        #expect(victim.logTail().contains("permanently removed from the cluster"))

        for m in survivors {
            let list = try etcdctl(m.endpoint, ["member", "list"])
            #expect(list.exitCode == 0 && list.stdout.split(separator: "\n").count == 2, "\(list.stdout)")
            let put = try etcdctl(m.endpoint, ["put", "after-remove-\(m.name)", "v"])
            #expect(put.exitCode == 0, "\(put.stderr)\n\(m.logTail())")
        }
    }
}
