import Foundation
import Testing

/// Members talking over `https://` peer URLs with peer client certificate
/// authentication: replication, member list, snapshot transfer over TLS,
/// and peers refused for a certificate from another CA or a SAN that does
/// not match their address, while the cluster keeps serving.
@Suite(.serialized) struct TLSPeerTests {
    /// Three members whose peer traffic is mutual TLS; `peerCert(i)` picks each member's peer certificate.
    static func cluster(_ pki: TestPKI, extraArgs: [String] = [],
                        peerCert: (Int) throws -> TestPKI.Pair) throws -> [ServerProcess] {
        let names = ["m1", "m2", "m3"]
        let ports = names.map { _ in (client: freePort(), peer: freePort()) }
        let initial = zip(names, ports).map { "\($0)=https://127.0.0.1:\($1.peer)" }.joined(separator: ",")
        let token = "tls-\(UUID().uuidString.prefix(8))"
        return try names.indices.map { i in
            let pair = try peerCert(i)
            return try ServerProcess(name: names[i], extraArgs: ["--initial-cluster-token", token,
                                                               "--peer-cert-file", pair.cert, "--peer-key-file", pair.key,
                                                               "--peer-trusted-ca-file", pki.caCert, "--peer-client-cert-auth"]
                                                              + extraArgs,
                                     clientPort: ports[i].client, peerPort: ports[i].peer, initialCluster: initial, peerScheme: "https")
        }
    }

    static func waitForValue(_ m: ServerProcess, _ key: String, _ value: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let r = try? etcdctl(m.endpoint, ["get", key, "--print-value-only", "--consistency=s"]), r.stdout == value + "\n" { return true }
            usleep(200_000)
        }
        return false
    }

    @Test func replicationAndMemberListOverMutualTLS() throws {
        let pki = try TestPKI()
        let members = try Self.cluster(pki) { i in try pki.issue("peer\(i)", cn: "m\(i + 1)", ips: ["127.0.0.1"]) }
        defer { for m in members { m.stop(); m.removeData() }; pki.remove() }
        for m in members { try m.start() }
        let put = try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "peer-tls", "ok"]) }
        #expect(put.exitCode == 0, "\(put.stderr) \(members[0].logTail())")
        #expect(Self.waitForValue(members[2], "peer-tls", "ok"), "\(members[2].logTail())")
        let list = try etcdctl(members[1].endpoint, ["member", "list"])
        for m in members { #expect(list.stdout.contains(m.peerURL), "\(list.stdout)") }
    }

    @Test func snapshotTransferOverTLS() throws {
        let pki = try TestPKI()
        let members = try Self.cluster(pki, extraArgs: SnapshotCatchUpTests.snapshotArgs) { i in
            try pki.issue("peer\(i)", cn: "m\(i + 1)", ips: ["127.0.0.1"])
        }
        defer { for m in members { m.stop(); m.removeData() }; pki.remove() }
        for m in members { try m.start() }
        #expect(try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "warm", "up"]) }.exitCode == 0)
        let follower = members[2]
        follower.stop(signal: SIGKILL)
        let writer = try AckWriter(endpoints: members[0..<2].map(\.endpoint).joined(separator: ","), clients: 4,
                                   ackPath: follower.dataDir + ".acks")
        writer.wait(forAcks: 400, seconds: 120)
        writer.stop()
        #expect(try etcdctl(members[0].endpoint, ["put", "last-key", "done"]).exitCode == 0)
        try follower.start()
        #expect(Self.waitForValue(follower, "last-key", "done", seconds: 60), "\(follower.logTail())")
        #expect(SnapshotCatchUpTests.installedSnapshot(follower), "\(follower.logTail())")
        let leaderLogs = members[0..<2].map { $0.logTail(bytes: 400_000) }.joined()
        #expect(leaderLogs.contains("sent database snapshot"), "no snapshot was sent")
    }

    @Test func peersWithWrongCAOrSANAreRefused() throws {
        let pki = try TestPKI()
        let other = try TestPKI(name: "other-ca")
        // m3 presents a certificate from another CA; checked again below with a wrong SAN.
        let members = try Self.cluster(pki) { i in
            i == 2 ? try other.issue("peer\(i)", cn: "m3", ips: ["127.0.0.1"]) : try pki.issue("peer\(i)", cn: "m\(i + 1)", ips: ["127.0.0.1"])
        }
        defer { for m in members { m.stop(); m.removeData() }; pki.remove(); other.remove() }
        for m in members { try m.start() }
        // m1 and m2 form a quorum and serve; m3 never joins them.
        let put = try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "k", "v"]) }
        #expect(put.exitCode == 0, "\(put.stderr)")
        #expect(eventually { members[0].log.contains("rejected connection") }, "\(members[0].logTail())")
        let onM3 = try etcdctl(members[2].endpoint, ["get", "k", "--print-value-only", "--consistency=s", "--command-timeout", "3s"])
        #expect(onM3.stdout != "v\n")
        #expect(try etcdctl(members[1].endpoint, ["put", "still", "serving"]).exitCode == 0)
    }

    @Test func peerWhoseSANDoesNotMatchItsAddressIsRefused() throws {
        let pki = try TestPKI()
        let members = try Self.cluster(pki) { i in
            try pki.issue("peer\(i)", cn: "m\(i + 1)", ips: [i == 2 ? "10.99.99.99" : "127.0.0.1"], dns: i == 2 ? ["elsewhere.invalid"] : [])
        }
        defer { for m in members { m.stop(); m.removeData() }; pki.remove() }
        for m in members { try m.start() }
        #expect(try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "k", "v"]) }.exitCode == 0)
        var log = ""
        #expect(eventually {
            log = members[0].logTail(bytes: 200_000) + members[1].logTail(bytes: 200_000)
            return log.contains("rejected connection") && (log.contains("does not match any of DNSNames")
                                                           || log.contains("x509: certificate is valid for 10.99.99.99"))
        }, "\(members[0].logTail())")
        #expect(log.contains("does not match any of DNSNames") || log.contains("x509: certificate is valid for 10.99.99.99"), "\(log.suffix(3000))")
        let onM3 = try etcdctl(members[2].endpoint, ["get", "k", "--print-value-only", "--consistency=s", "--command-timeout", "3s"])
        #expect(onM3.stdout != "v\n")
    }
}
