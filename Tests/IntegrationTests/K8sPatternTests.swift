import Foundation
import Testing

/// What a Kubernetes API server meets at the edges of etcd's API, through
/// Go's clientv3 (Tests/GoClients/k8spatterns): a watch from a compacted
/// revision (ErrCompacted with the compact revision), paginated lists
/// pinned to a revision that gets compacted, count-only ranges, txns past
/// --max-txn-ops, requests past --max-request-bytes and the gRPC limit,
/// and a lease revoked under 10,000 keys while they are watched (each
/// delete delivered once, in key order, at the revoke's revision). The
/// outcomes, errors' codes and texts included, must be etcd 3.5.1's.
@Suite(.serialized) struct K8sPatternTests {
    private func outcomes(_ binary: String?) throws -> String {
        let server = try ServerProcess(binary: binary)
        try server.start()
        defer { server.stop(); server.removeData() }
        let r = try ProcessRunner.run(try GoPrograms.binary("k8spatterns"), ["-endpoint", server.endpoint],
                                      timeoutSeconds: 300)
        #expect(r.exitCode == 0, "\(r.stderr)")
        return r.stdout
    }

    @Test func outcomesAreEtcds() throws {
        let ours = try outcomes(nil)
        let etcd = try outcomes(ReferenceEtcd.binary)
        #expect(etcd.contains("lease-revoke-watch: puts 10000 deletes 10000"), "etcd 3.5.1 itself: \(etcd)")
        let (a, b) = (ours.split(separator: "\n"), etcd.split(separator: "\n"))
        for (i, line) in b.enumerated() {
            #expect(i < a.count && a[i] == line, "line \(i + 1): ours \(i < a.count ? String(a[i]) : "(none)"), etcd 3.5.1 \(line)")
        }
        #expect(a.count == b.count, "ours:\n\(ours)\netcd 3.5.1:\n\(etcd)")
    }

    /// Kubernetes' watches carry WithRequireLeader: once a member has lost
    /// its quorum (the two others stopped), etcd 3.5.1 cancels them with
    /// "etcdserver: no leader" (after about three election timeouts) so
    /// the API server goes to a member that has a leader, and leaves plain
    /// watches open.
    @Test func requireLeaderWatchEndsWhenTheQuorumIsLost() throws {
        func run(_ binary: String?) throws -> String {
            let cluster = try ClusterTests.Cluster(binary: binary)
            defer { cluster.stop() }
            try cluster.start()
            _ = try cluster.waitForLeader(among: cluster.members)
            let watch = try ProcessRunner.start(try GoPrograms.binary("k8spatterns"),
                                                ["-endpoint", cluster.members[0].endpoint, "-no-leader-wait", "30s"])
            #expect(watch.waitForOutput { $0.contains("watching") })
            for other in cluster.members.dropFirst() { other.stop() }
            let r = watch.finish(timeoutSeconds: 120)
            return r.stdout
        }
        let ours = try run(nil)
        let etcd = try run(ReferenceEtcd.binary)
        #expect(etcd.contains("require-leader: rpctypes.EtcdError \"etcdserver: no leader\" canceled true"), "\(etcd)")
        #expect(ours == etcd, "ours:\n\(ours)\netcd 3.5.1:\n\(etcd)")
    }
}
