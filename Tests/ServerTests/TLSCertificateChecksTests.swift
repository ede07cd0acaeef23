import Foundation
import Testing
@testable import Server

/// etcd's checks on a remote certificate (`RemoteCertificatePolicy`), Go's
/// host name matching (`CertificateFacts.hostnameError`) and CRL parsing.
@Suite struct TLSCertificateChecksTests {
    let peer = CertificateFacts(commonName: "etcd-peer", dnsNames: ["member1.example", "*.peers.example"],
                                ipAddresses: [[127, 0, 0, 2]], serial: [0x10, 0x01])

    @Test func hostnameMatchesSANsOnly() {
        #expect(peer.hostnameError("127.0.0.2") == nil)
        #expect(peer.hostnameError("member1.example") == nil)
        #expect(peer.hostnameError("MEMBER1.example.") == nil)
        #expect(peer.hostnameError("a.peers.example") == nil)
        #expect(peer.hostnameError("a.b.peers.example") != nil)
        #expect(peer.hostnameError("etcd-peer") == "x509: certificate is valid for member1.example, *.peers.example, not etcd-peer")
        #expect(peer.hostnameError("127.0.0.3") == "x509: certificate is valid for 127.0.0.2, not 127.0.0.3")
        #expect(CertificateFacts(commonName: "x").hostnameError("10.0.0.1")
            == "x509: cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs")
    }

    @Test func ipv4MappedIPv6Matches() {
        let facts = CertificateFacts(ipAddresses: [[127, 0, 0, 1]])
        #expect(facts.hostnameError("::ffff:127.0.0.1") == nil)
    }

    @Test func allowedCN() {
        let policy = RemoteCertificatePolicy(allowedCN: "etcd-peer")
        #expect(policy.immediateError(peer, crl: nil, remoteIP: nil) == nil)
        var other = peer
        other.commonName = "intruder"
        #expect(policy.immediateError(other, crl: nil, remoteIP: nil) == "client certificate authentication failed")
    }

    @Test func allowedHostname() {
        #expect(RemoteCertificatePolicy(allowedHostname: "member1.example").immediateError(peer, crl: nil, remoteIP: nil) == nil)
        #expect(RemoteCertificatePolicy(allowedHostname: "member9.example").immediateError(peer, crl: nil, remoteIP: nil)
            == "client certificate authentication failed")
    }

    @Test func sanAgainstAddress() {
        let policy = RemoteCertificatePolicy(checkSANAgainstAddress: true)
        #expect(policy.immediateError(peer, crl: nil, remoteIP: "127.0.0.2") == nil)
        #expect(!policy.needsLookup(peer, remoteIP: "127.0.0.2"))
        // IP SANs do not match, DNS SANs exist: resolve them.
        #expect(policy.needsLookup(peer, remoteIP: "127.0.0.9"))
        let ipOnly = CertificateFacts(ipAddresses: [[127, 0, 0, 2]])
        #expect(policy.immediateError(ipOnly, crl: nil, remoteIP: "127.0.0.9") == "x509: certificate is valid for 127.0.0.2, not 127.0.0.9")
        // No SANs at all: nothing to check (etcd).
        #expect(policy.immediateError(CertificateFacts(commonName: "x"), crl: nil, remoteIP: "127.0.0.9") == nil)
        #expect(!RemoteCertificatePolicy().needsLookup(peer, remoteIP: "127.0.0.9"))
    }

    @Test func dnsSANLookups() {
        let policy = RemoteCertificatePolicy(checkSANAgainstAddress: true)
        let resolver = RemoteCertificatePolicy.Resolver(
            addresses: { $0 == "member1.example" ? ["127.0.0.9"] : [] },
            names: { $0 == "127.0.0.7" ? ["x.peers.example."] : [] })
        #expect(policy.dnsSANError(peer, remoteIP: "127.0.0.9", resolver: resolver) == nil)  // forward
        #expect(policy.dnsSANError(peer, remoteIP: "127.0.0.7", resolver: resolver) == nil)  // reverse, wildcard
        #expect(policy.dnsSANError(peer, remoteIP: "127.0.0.8", resolver: resolver)
            == "tls: \"127.0.0.8\" does not match any of DNSNames [\"member1.example\" \"*.peers.example\"]")
    }

    @Test func revokedSerial() {
        let crl = CertificateRevocationList(revokedSerials: [[0x10, 0x01]])
        #expect(RemoteCertificatePolicy().immediateError(peer, crl: crl, remoteIP: nil) == "transport: certificate serial 1001 revoked")
        #expect(crl.isRevoked(serial: [0x00, 0x10, 0x01]))
        #expect(!crl.isRevoked(serial: [0x10, 0x02]))
        #expect(RemoteCertificatePolicy().hasChecks(crl: crl) && !RemoteCertificatePolicy().hasChecks(crl: nil))
    }

    /// A CRL made by `openssl ca`, PEM and DER.
    @Test func parsesOpenSSLCRL() throws {
        let dir = NSTemporaryDirectory() + "swift-etcd-crl-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/db", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/db/index.txt", contents: Data())
        try "00A1\n".write(toFile: dir + "/db/serial", atomically: true, encoding: .utf8)
        try "01\n".write(toFile: dir + "/db/crlnumber", atomically: true, encoding: .utf8)
        try """
            [ca]
            default_ca = d
            [d]
            database = \(dir)/db/index.txt
            serial = \(dir)/db/serial
            crlnumber = \(dir)/db/crlnumber
            new_certs_dir = \(dir)/db
            certificate = \(dir)/ca.crt
            private_key = \(dir)/ca.key
            default_md = sha256
            default_crl_days = 1
            policy = p
            [p]
            commonName = supplied
            """.write(toFile: dir + "/ca.cnf", atomically: true, encoding: .utf8)
        func openssl(_ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "openssl \(args)")
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/ca.key",
                     "-out", dir + "/ca.crt", "-days", "1", "-subj", "/CN=ca"])
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/l.key",
                     "-out", dir + "/l.csr", "-subj", "/CN=leaf"])
        try openssl(["ca", "-batch", "-config", dir + "/ca.cnf", "-in", dir + "/l.csr", "-out", dir + "/l.crt", "-days", "1"])
        try openssl(["ca", "-config", dir + "/ca.cnf", "-revoke", dir + "/l.crt"])
        try openssl(["ca", "-config", dir + "/ca.cnf", "-gencrl", "-out", dir + "/crl.pem"])
        try openssl(["crl", "-in", dir + "/crl.pem", "-outform", "DER", "-out", dir + "/crl.der"])
        for file in ["crl.pem", "crl.der"] {
            let crl = try CertificateRevocationList(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))))
            #expect(crl.revokedSerials == [[0xA1]], "\(file)")
        }
        #expect(throws: (any Error).self) { try CertificateRevocationList(bytes: Array("not a crl".utf8)) }
    }
}
