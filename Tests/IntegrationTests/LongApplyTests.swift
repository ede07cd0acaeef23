import Foundation
import Proto
import Testing

/// A long apply (a DeleteRange of 300,000 keys: seconds of work on each
/// member) must not cost the cluster its leader. Applied on the Raft loop's
/// thread, it held up the leader's heartbeats past the election timeout and
/// a follower that had finished first started an election; the apply now
/// runs beside the loop (`ApplyStage`), as etcd's does, and the loop keeps
/// ticking and heartbeating meanwhile. Default --heartbeat-interval 100 ms
/// and --election-timeout 1000 ms.
@Suite(.serialized) struct LongApplyTests {
    static let keys = 300_000
    static let perTxn = 10_000

    @Test func deletingThreeHundredThousandKeysKeepsLeaderAndTerm() throws {
        let cluster = try ClusterTests.Cluster(extraArgs: ["--max-txn-ops", "\(Self.perTxn)",
                                                           "--max-request-bytes", "\(32 << 20)"])
        defer { cluster.stop() }
        try cluster.start()
        _ = try cluster.waitForLeader(among: cluster.members)
        let port = cluster.members[0].clientPort
        for first in stride(from: 0, to: Self.keys, by: Self.perTxn) {
            var txn = Etcdserverpb.TxnRequest()
            txn.success = (first..<min(Self.keys, first + Self.perTxn)).map { HostileRequestTests.put(Self.key($0), "value-\($0)") }
            let r = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Txn", message: txn.serializedBytes(), timeoutSeconds: 120)
            #expect(r.grpcStatus == 0, "txn at \(first): \(r.grpcStatus ?? -1) \(r.grpcMessage ?? "") \(r.output.suffix(300))")
        }
        let before = try Self.settledStatus(cluster)

        var delete = Etcdserverpb.DeleteRangeRequest()
        delete.key = Array("big/".utf8)
        delete.rangeEnd = Array("big0".utf8)
        let r = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/DeleteRange", message: delete.serializedBytes(),
                                 timeoutSeconds: 120)
        #expect(r.grpcStatus == 0, "\(r.grpcStatus ?? -1) \(r.grpcMessage ?? "")")
        let deleted = r.messages.first.flatMap { try? Etcdserverpb.DeleteRangeResponse(serializedBytes: $0) }?.deleted
        #expect(deleted == Int64(Self.keys))
        let after = try Self.settledStatus(cluster)

        #expect(after.map(\.leader) == before.map(\.leader), "leader changed: \(before) → \(after)")
        #expect(after.map(\.term) == before.map(\.term), "term changed: \(before) → \(after)")
    }

    static func key(_ i: Int) -> String { "big/" + String(repeating: "0", count: 7 - String(i).count) + String(i) }

    struct MemberStatus: Equatable, CustomStringConvertible {
        var leader: UInt64
        var term: UInt64
        var applied: UInt64
        var description: String { "leader \(String(leader, radix: 16)) term \(term) applied \(applied)" }
    }

    /// Every member's status once all of them applied the same index (the
    /// last write reached every store).
    static func settledStatus(_ cluster: ClusterTests.Cluster) throws -> [MemberStatus] {
        let deadline = Date().addingTimeInterval(180)
        var last: [MemberStatus?] = []
        while Date() < deadline {
            last = cluster.members.map { status($0) }
            let all = last.compactMap { $0 }
            if all.count == cluster.members.count, Set(all.map(\.applied)).count == 1, all[0].leader != 0 { return all }
            usleep(200_000)
        }
        throw TestSetupError("members never agreed on the applied index: \(last)")
    }

    static func status(_ m: ServerProcess) -> MemberStatus? {
        guard let r = try? etcdctl(m.endpoint, ["endpoint", "status", "-w", "json"]), r.exitCode == 0,
              let list = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]],
              let st = list.first?["Status"] as? [String: Any] else { return nil }
        return MemberStatus(leader: (st["leader"] as? NSNumber)?.uint64Value ?? 0, term: (st["raftTerm"] as? NSNumber)?.uint64Value ?? 0,
                            applied: (st["raftAppliedIndex"] as? NSNumber)?.uint64Value ?? 0)
    }
}
