import Foundation
import Testing

private let libfaketimePath = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

/// A member whose wall clock is stepped (NTP, an operator, a VM restored
/// from a snapshot) keeps its Raft and lease timing: etcd's run on Go's
/// monotonic clock. The step is made with Debian's libfaketime
/// (`faketime` package) preloaded into one member, its offset read from a
/// file on every clock call; the monotonic clock is left alone.
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: libfaketimePath),
                             "needs libfaketime (Debian package faketime)"))
struct ClockStepTests {
    static let libfaketime = libfaketimePath

    /// A follower whose wall clock went back an hour still ticks: when the
    /// leader dies, the survivors elect a new one; and it still takes member
    /// changes. Its Raft loop used to
    /// wait for the next tick on the wall clock, so it stopped ticking for
    /// the hour: it kept the dead leader's lease ("lease is not expired")
    /// and ignored the other survivor's votes, and the cluster had no
    /// leader until the clock caught up.
    @Test func followerWithClockSteppedBackStillElectsAfterLeaderDies() throws {
        let offsetFile = NSTemporaryDirectory() + "swift-etcd-faketime-\(UUID().uuidString)"
        try "+0\n".write(toFile: offsetFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: offsetFile) }
        let names = ["m1", "m2", "m3"]
        let ports = names.map { _ in (client: freePort(), peer: freePort()) }
        let initial = zip(names, ports).map { "\($0)=http://127.0.0.1:\($1.peer)" }.joined(separator: ",")
        let token = "clock-\(UUID().uuidString.prefix(8))"
        let stepped = try ServerProcess(name: "m1", clientPort: ports[0].client, peerPort: ports[0].peer,
                                        initialCluster: initial, exactArguments: [])
        // Under libfaketime the Swift runtime sees no arguments: the member
        // is configured through etcd's environment variables instead.
        stepped.environment = [
            "LD_PRELOAD": Self.libfaketime, "FAKETIME_TIMESTAMP_FILE": offsetFile, "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "ETCD_NAME": "m1", "ETCD_DATA_DIR": stepped.dataDir,
            "ETCD_LISTEN_CLIENT_URLS": stepped.clientURL, "ETCD_ADVERTISE_CLIENT_URLS": stepped.clientURL,
            "ETCD_LISTEN_PEER_URLS": stepped.peerURL, "ETCD_INITIAL_ADVERTISE_PEER_URLS": stepped.peerURL,
            "ETCD_INITIAL_CLUSTER": initial, "ETCD_INITIAL_CLUSTER_TOKEN": token, "ETCD_INITIAL_CLUSTER_STATE": "new",
        ]
        let others = try zip(names, ports).dropFirst().map { name, p in
            try ServerProcess(name: name, extraArgs: ["--initial-cluster-token", token, "--initial-cluster-state", "new"],
                              clientPort: p.client, peerPort: p.peer, initialCluster: initial)
        }
        let members = [stepped] + others
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members { try m.start() }
        let cluster = ClusterTests.Cluster(members: members)
        var leaderID = try cluster.waitForLeader(among: members)
        let steppedID = try #require(cluster.status(stepped)?.memberID)
        if leaderID == steppedID {
            let other = String(try #require(cluster.status(others[0])?.memberID), radix: 16)
            let move = try etcdctl(stepped.endpoint, ["move-leader", other])
            #expect(move.exitCode == 0, "\(move.stderr)")
            leaderID = try cluster.waitForLeader(among: members, excluding: steppedID)
        }
        let leader = try #require(others.first { cluster.status($0)?.memberID == leaderID })
        let survivor = try #require(others.first { $0 !== leader })

        let stepTime = Date()
        try "-3600\n".write(toFile: offsetFile, atomically: true, encoding: .utf8)
        #expect(try etcdctl(stepped.endpoint, ["put", "after-step", "v"]).exitCode == 0)
        // Its peers still count as connected for the strict reconfiguration
        // check (they used to look connected "since the future", refusing
        // every member change as "unhealthy cluster" for the hour).
        var add: CommandResult?
        let added = try eventually(seconds: 60) {
            add = try etcdctl(stepped.endpoint, ["member", "add", "m4", "--learner", "--peer-urls", "http://127.0.0.1:\(freePort())"])
            return add?.exitCode == 0
        }
        #expect(added, "\(add?.stderr ?? "")")
        leader.stop(signal: SIGKILL)

        let newLeader = try? cluster.waitForLeader(among: [stepped, survivor], excluding: leaderID, seconds: 60)
        #expect(newLeader != nil, "no leader after the leader's death: \(stepped.logTail(bytes: 1500))")
        // The step took effect: the member logged under the stepped clock.
        #expect(Self.loggedBefore(stepTime.addingTimeInterval(-1800), stepped.log), "\(stepped.logTail(bytes: 1500))")
        let put = try etcdctl(survivor.endpoint, ["put", "after-election", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }

    /// Whether a zap log line carries a timestamp before `date`.
    static func loggedBefore(_ date: Date, _ log: String) -> Bool {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return log.split(separator: "\n").contains { line in
            guard let r = line.range(of: "\"ts\":\""), let end = line[r.upperBound...].firstIndex(of: "\"") else { return false }
            return format.date(from: String(line[r.upperBound..<end])).map { $0 < date } ?? false
        }
    }
}
