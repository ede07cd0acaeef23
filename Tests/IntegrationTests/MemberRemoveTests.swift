import Foundation
import Testing

/// `etcdctl member remove` in a 3-member cluster: the member list shrinks,
/// a removed running member stops itself, the others keep serving. A removed
/// member started again on its old data dir stops at once with status 0, as
/// etcd 3.5.1's does: when it was removed while down (its peers tell it) and
/// when it applied its own removal (its data dir says so).
@Suite(.serialized) struct MemberRemoveTests {
    @Test func removedMembersStopAndStayStoppedWhileTheClusterServes() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leaderID = try cluster.waitForLeader(among: cluster.members)
        let leader = try #require(cluster.members.first { cluster.status($0)?.memberID == leaderID })
        let followers = cluster.members.filter { $0 !== leader }
        let (downed, victim) = (followers[0], followers[1])
        let victimID = try #require(cluster.status(victim)?.memberID)
        let downedID = try #require(cluster.status(downed)?.memberID)

        let unknown = try etcdctl(leader.endpoint, ["member", "remove", "1234abcd"])
        #expect(unknown.exitCode != 0 && unknown.stderr.contains("etcdserver: member not found"), "\(unknown.stderr)")

        // Removed while down (a down member is always safe to remove), then
        // restarted: its data dir still lists it, the leader refuses it as removed.
        _ = downed.stop(signal: SIGKILL)
        let removedDown = try MemberReconfigTests.retryingUnhealthy(leader.endpoint, ["member", "remove", String(downedID, radix: 16)])
        #expect(removedDown.exitCode == 0, "\(removedDown.stderr)\n\(leader.logTail())")
        expectStopsAsRemoved(downed)

        // Asked of the follower: the change goes through the leader. Its
        // peers may have connected moments ago: etcd's strict reconfiguration
        // check answers "unhealthy cluster" until they have been up 5 s.
        let removed = try MemberReconfigTests.retryingUnhealthy(victim.endpoint, ["member", "remove", String(victimID, radix: 16)])
        #expect(removed.exitCode == 0, "\(removed.stderr)\n\(victim.logTail())")
        #expect(removed.stdout.contains("\(String(victimID, radix: 16)) removed from cluster"), "\(removed.stdout)")
        let status = victim.waitForExit(seconds: 60)
        #expect(status == 0, "removed member still running: \(victim.logTail())")
        #expect(victim.log.contains("permanently removed from the cluster"))

        // Restarted on the data dir that applied its own removal.
        expectStopsAsRemoved(victim)

        let list = try etcdctl(leader.endpoint, ["member", "list"])
        #expect(list.exitCode == 0 && list.stdout.split(separator: "\n").count == 1, "\(list.stdout)")
        let put = try etcdctl(leader.endpoint, ["put", "after-remove", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)\n\(leader.logTail())")
    }

    private func expectStopsAsRemoved(_ member: ServerProcess, sourceLocation: SourceLocation = #_sourceLocation) {
        try? member.start()  // it may exit before or after it listens
        let status = member.waitForExit(seconds: 60)
        #expect(status == 0, "removed member still running or failed: \(member.logTail())", sourceLocation: sourceLocation)
        // The whole log: a refusal that arrives while the member starts is
        // logged before the start-up lines, more than a tail's worth back.
        #expect(member.log.contains("data-dir used by this member must be removed"),
                "\(member.logTail())", sourceLocation: sourceLocation)
    }
}
