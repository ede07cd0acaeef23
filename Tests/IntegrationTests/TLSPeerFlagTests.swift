import Foundation
import Testing

/// The peer TLS flags beyond the basic set, on real 3-member clusters:
/// `--peer-cert-allowed-cn`, `--peer-cert-allowed-hostname`,
/// `--peer-client-cert-file`/`--peer-client-key-file`,
/// `--experimental-peer-skip-client-san-verification`, `--peer-crl-file` and
/// `--peer-auto-tls`. Each refusal costs only the refused member.
@Suite(.serialized) struct TLSPeerFlagTests {
    /// Three members on https peer URLs; `args(i)` gives member i's TLS flags.
    static func cluster(_ args: (Int) throws -> [String]) throws -> [ServerProcess] {
        let names = ["m1", "m2", "m3"]
        let ports = names.map { _ in (client: freePort(), peer: freePort()) }
        let initial = zip(names, ports).map { "\($0)=https://127.0.0.1:\($1.peer)" }.joined(separator: ",")
        let token = "tls-flags-\(UUID().uuidString.prefix(8))"
        return try names.indices.map { i in
            try ServerProcess(name: names[i], extraArgs: ["--initial-cluster-token", token] + args(i),
                              clientPort: ports[i].client, peerPort: ports[i].peer, initialCluster: initial, peerScheme: "https")
        }
    }

    static func logs(_ members: ArraySlice<ServerProcess>) -> String {
        members.map { $0.logTail(bytes: 400_000) }.joined()
    }

    /// Waits until `text` shows in the logs of `members` (a refusal is logged
    /// when the refused member next dials, within a second or two).
    static func waitForLog(_ members: ArraySlice<ServerProcess>, _ text: String, seconds: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if logs(members).contains(text) { return true }
            usleep(300_000)
        }
        return false
    }

    /// Peer certificates for serving only (serverAuth) with CN etcd-peer; the
    /// connections a member opens present its own client certificate. m1 and
    /// m2's client certificates name an address they do not have (the SAN
    /// check is skipped) and the allowed CN; m3's has another CN and is
    /// refused at m1 and m2's handshakes.
    @Test func allowedCNSeparateClientCertificatesAndSkippedSANCheck() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let members = try Self.cluster { i in
            let serving = try pki.issue("peer\(i)", cn: "etcd-peer", ips: ["127.0.0.1"], serverOnly: true)
            let dialing = try pki.issue("peer-client\(i)", cn: i == 2 ? "intruder" : "etcd-peer",
                                        ips: ["10.99.99.99"], clientOnly: true)
            return ["--peer-cert-file", serving.cert, "--peer-key-file", serving.key,
                    "--peer-client-cert-file", dialing.cert, "--peer-client-key-file", dialing.key,
                    "--peer-trusted-ca-file", pki.caCert, "--peer-client-cert-auth",
                    "--peer-cert-allowed-cn", "etcd-peer", "--experimental-peer-skip-client-san-verification"]
        }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members { try m.start() }
        // m1 and m2 accept each other's client certificates (serving-only
        // certificates would be refused as client certificates) and form a quorum.
        let put = try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "allowed-cn", "ok"]) }
        #expect(put.exitCode == 0, "\(put.stderr) \(members[0].logTail())")
        #expect(TLSPeerTests.waitForValue(members[1], "allowed-cn", "ok"), "\(members[1].logTail())")
        // m3's connections are refused for their CN within the handshake, as
        // etcd's: m3 reads the alert as etcd logs it.
        #expect(Self.waitForLog(members[0..<2], "client certificate authentication failed"), "\(members[0].logTail())")
        #expect(Self.waitForLog(members[2...], "remote error: tls: bad certificate"), "\(members[2].logTail())")
        // A TLS client presenting m3's certificate gets the alert (BoringSSL
        // sends certificate_unknown where Go sends bad_certificate); one with
        // the allowed CN completes its handshake.
        func probe(_ name: String) throws -> String {
            let r = try ProcessRunner.run("sh", ["-c", "sleep 1 | openssl s_client -connect 127.0.0.1:\(members[0].peerPort) "
                + "-cert \(pki.dir)/\(name).crt -key \(pki.dir)/\(name).key -CAfile \(pki.caCert) 2>&1"], timeoutSeconds: 20)
            return r.stdout
        }
        let refused = try probe("peer-client2"), accepted = try probe("peer-client1")
        #expect(refused.contains("alert certificate unknown"), "\(refused)")
        #expect(!accepted.contains("alert") && accepted.contains("Verify return code: 0"), "\(accepted)")
        #expect(!Self.logs(members[0..<2]).contains("does not match"), "a SAN was checked: \(members[0].logTail())")
        #expect(try etcdctl(members[1].endpoint, ["put", "still", "serving"]).exitCode == 0)
    }

    /// `--peer-cert-allowed-hostname`: m3's certificate is not valid for the
    /// allowed name, so m1 and m2 refuse its connections.
    @Test func allowedHostnameRefusesAnotherName() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let members = try Self.cluster { i in
            let pair = try pki.issue("peer\(i)", cn: "m\(i + 1)", ips: ["127.0.0.1"],
                                     dns: [i == 2 ? "other.etcd.test" : "peer.etcd.test"])
            return ["--peer-cert-file", pair.cert, "--peer-key-file", pair.key, "--peer-trusted-ca-file", pki.caCert,
                    "--peer-client-cert-auth", "--peer-cert-allowed-hostname", "peer.etcd.test"]
        }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members { try m.start() }
        let put = try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "allowed-host", "ok"]) }
        #expect(put.exitCode == 0, "\(put.stderr) \(members[0].logTail())")
        #expect(TLSPeerTests.waitForValue(members[1], "allowed-host", "ok"), "\(members[1].logTail())")
        #expect(Self.waitForLog(members[0..<2], "client certificate authentication failed"), "\(members[0].logTail())")
        // m1 and m2's dials refuse m3's certificate within the handshake: m3's
        // listener reads the alert as etcd logs it.
        #expect(Self.waitForLog(members[2...], "remote error: tls: bad certificate"), "\(members[2].logTail())")
    }

    /// m3's peer certificate is revoked in the CRL every member reads: its
    /// connections are refused; m1 and m2 serve.
    @Test func revokedPeerCertificateIsRefused() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let crl = pki.dir + "/peer-crl.pem"
        let pairs = try (0..<3).map { i in try pki.issue("peer\(i)", cn: "m\(i + 1)", ips: ["127.0.0.1"]) }
        try pki.revoke(pairs[2].cert, crlPath: crl)
        let members = try Self.cluster { i in
            ["--peer-cert-file", pairs[i].cert, "--peer-key-file", pairs[i].key, "--peer-trusted-ca-file", pki.caCert,
             "--peer-client-cert-auth", "--peer-crl-file", crl]
        }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members { try m.start() }
        let put = try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "crl", "ok"]) }
        #expect(put.exitCode == 0, "\(put.stderr) \(members[0].logTail())")
        #expect(Self.waitForLog(members[0..<2], "revoked"), "\(members[0].logTail())")
        #expect(try etcdctl(members[1].endpoint, ["put", "still", "serving"]).exitCode == 0)
    }

    /// `--peer-auto-tls`: each member makes its own peer certificate at
    /// start (etcd's fixtures/peer) and the three replicate over TLS.
    @Test func peerAutoTLSCluster() throws {
        let members = try Self.cluster { _ in ["--peer-auto-tls"] }
        defer { for m in members { m.stop(); m.removeData() } }
        for m in members { try m.start() }
        let put = try KubeadmManifestTests.retry { try etcdctl(members[0].endpoint, ["put", "auto-peer", "ok"]) }
        #expect(put.exitCode == 0, "\(put.stderr) \(members[0].logTail())")
        #expect(TLSPeerTests.waitForValue(members[2], "auto-peer", "ok"), "\(members[2].logTail())")
        for m in members {
            #expect(FileManager.default.fileExists(atPath: m.dataDir + "/fixtures/peer/cert.pem"), "\(m.logTail())")
        }
        // The peer port speaks TLS: a handshake there gets a certificate.
        let s = try ProcessRunner.run("openssl", ["s_client", "-connect", "127.0.0.1:\(members[0].peerPort)"], stdin: "")
        #expect(s.stdout.contains("-----BEGIN CERTIFICATE-----"), "\(s.stdout) \(s.stderr)")
    }
}
