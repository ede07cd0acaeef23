import Foundation
import Testing

/// Real clients over TLS and mutual TLS on an `https://` client URL:
/// etcdctl 3.4 and 3.5.1, Go clientv3 with a tls.Config, Python etcd3
/// (grpcio C-core), curl on the JSON gateway, /health and /metrics; and
/// every refusal etcd makes, each leaving the member serving the others.
@Suite(.serialized) struct TLSClientTests {
    let pki: TestPKI
    let server: TestPKI.Pair
    let client: TestPKI.Pair

    init() throws {
        pki = try TestPKI()
        server = try pki.issue("server", cn: "server", ips: ["127.0.0.1"], dns: ["localhost"])
        client = try pki.issue("client", cn: "root", clientOnly: true)
    }

    /// A member with client certificate authentication on its https client URL.
    func startMember(_ extra: [String] = []) throws -> ServerProcess {
        let m = try ServerProcess(extraArgs: ["--cert-file", server.cert, "--key-file", server.key,
                                              "--trusted-ca-file", pki.caCert, "--client-cert-auth"] + extra,
                                  clientScheme: "https")
        try m.start()
        return m
    }

    func tlsArgs(_ pair: TestPKI.Pair? = nil) -> [String] {
        let p = pair ?? client
        return ["--cacert", pki.caCert, "--cert", p.cert, "--key", p.key]
    }

    /// curl trusting the test CA, presenting `pair` (the client's by default; `withoutCertificate` none).
    func curl(_ args: [String], pair: TestPKI.Pair? = nil, withoutCertificate: Bool = false) throws -> CommandResult {
        let p = pair ?? client
        let identity = withoutCertificate ? [] : ["--cert", p.cert, "--key", p.key]
        return try ProcessRunner.run("curl", ["-sS", "--max-time", "10", "--cacert", pki.caCert] + identity + args)
    }

    @Test func etcdctlBothVersionsOverMutualTLS() throws {
        let m = try startMember()
        defer { m.stop(); m.removeData(); pki.remove() }
        let put = try etcdctl(m.clientURL, tlsArgs() + ["put", "tls/a", "1"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        let get = try etcdctl(m.clientURL, tlsArgs() + ["get", "tls/a", "--print-value-only"])
        #expect(get.stdout == "1\n", "\(get.stderr)")
        let etcdctl35 = PackagePaths.root.appendingPathComponent(".venv/bin/etcdctl").path
        let r35 = try ProcessRunner.run(etcdctl35, ["--endpoints", m.clientURL, "--command-timeout", "10s"] + tlsArgs()
                                        + ["get", "tls/a", "--print-value-only"])
        #expect(r35.stdout == "1\n", "\(r35.stderr)")
        let status = try ProcessRunner.run(etcdctl35, ["--endpoints", m.clientURL] + tlsArgs() + ["endpoint", "health"])
        #expect(status.exitCode == 0 && (status.stdout + status.stderr).contains("is healthy"), "\(status.stderr)")
    }

    @Test func goClientV3WithTLSConfig() throws {
        let m = try startMember()
        defer { m.stop(); m.removeData(); pki.remove() }
        let binary = try GoPrograms.binary("tlsclient")
        let r = try ProcessRunner.run(binary, ["-endpoints", m.clientURL, "-cacert", pki.caCert, "-cert", client.cert,
                                               "-key", client.key, "-mode", "putget"], timeoutSeconds: 60)
        #expect(r.exitCode == 0 && r.stdout.contains("ok"), "\(r.stderr)")
    }

    @Test func pythonEtcd3OverGrpcioCCore() throws {
        let m = try startMember()
        defer { m.stop(); m.removeData(); pki.remove() }
        let python = PackagePaths.root.appendingPathComponent(".venv/bin/python").path
        let script = PackagePaths.root.appendingPathComponent("Tests/PythonClients/etcd3_tls_check.py").path
        let r = try ProcessRunner.run(python, [script, String(m.clientPort), pki.caCert, client.cert, client.key], timeoutSeconds: 90)
        #expect(r.exitCode == 0 && r.stdout.contains("ok"), "\(r.stderr)")
    }

    @Test func curlOnGatewayHealthMetricsOverTLS() throws {
        let m = try startMember()
        defer { m.stop(); m.removeData(); pki.remove() }
        // "tls/g" → "1" in base64.
        let put = try curl(["-X", "POST", "-d", #"{"key":"dGxzL2c=","value":"MQ=="}"#, m.clientURL + "/v3/kv/put"])
        #expect(put.exitCode == 0 && put.stdout.contains("\"revision\""), "\(put.stdout) \(put.stderr)")
        let range = try curl(["-X", "POST", "-d", #"{"key":"dGxzL2c="}"#, m.clientURL + "/v3/kv/range"])
        #expect(range.stdout.contains("\"value\":\"MQ==\""), "\(range.stdout)")
        let health = try curl([m.clientURL + "/health"])
        #expect(health.stdout.contains(#""health":"true""#), "\(health.stdout) \(health.stderr)")
        for probe in ["/livez", "/readyz"] {
            let r = try curl(["-w", "\n%{http_code}", m.clientURL + probe])
            #expect(r.stdout.hasSuffix("\n200") && r.stdout.contains(#""health":"true""#), "\(probe): \(r.stdout) \(r.stderr)")
        }
        let version = try curl([m.clientURL + "/version"])
        #expect(version.stdout.contains("etcdserver"), "\(version.stdout)")
        let metrics = try curl([m.clientURL + "/metrics"])
        #expect(metrics.stdout.contains("etcd_server_has_leader 1"), "\(metrics.stderr)")
    }

    @Test func refusalsLeaveTheMemberServing() throws {
        let other = try TestPKI(name: "other-ca")
        let crl = pki.dir + "/crl.pem"
        let revoked = try pki.issue("revoked", cn: "revoked", clientOnly: true)
        try pki.revoke(revoked.cert, crlPath: crl)
        let m = try startMember(["--client-crl-file", crl])
        defer { m.stop(); m.removeData(); pki.remove(); other.remove() }
        let stranger = try other.issue("stranger", cn: "stranger", clientOnly: true)
        let expired = try pki.issue("expired", cn: "expired", clientOnly: true, expired: true)

        // No client certificate. A refused etcdctl retries until its command
        // timeout (10 s by default): these refusals get 2 s.
        let none = try etcdctl(m.clientURL, ["--cacert", pki.caCert, "--dial-timeout", "2s", "--command-timeout", "2s", "get", "k"])
        #expect(none.exitCode != 0)
        let anonymous = try curl([m.clientURL + "/health"], withoutCertificate: true)
        #expect(anonymous.exitCode != 0 && !anonymous.stdout.contains("health"), "\(anonymous.stdout)")
        // Another CA, expired, revoked.
        for bad in [stranger, expired, revoked] {
            let r = try etcdctl(m.clientURL, tlsArgs(bad) + ["--dial-timeout", "2s", "--command-timeout", "2s", "get", "k"])
            #expect(r.exitCode != 0, "\(bad.cert) accepted")
            let c = try curl([m.clientURL + "/health"], pair: bad)
            #expect(c.exitCode != 0, "\(bad.cert) accepted by curl: \(c.stdout)")
        }
        let go = try GoPrograms.binary("tlsclient")
        let g = try ProcessRunner.run(go, ["-endpoints", m.clientURL, "-cacert", pki.caCert, "-cert", stranger.cert,
                                           "-key", stranger.key, "-mode", "expectfail"], timeoutSeconds: 60)
        #expect(g.exitCode == 0, "\(g.stderr)")
        // Plain HTTP/2 and HTTP/1.1 to the TLS port: no answer, connection closed.
        let h2c = try ProcessRunner.run("curl", ["-sS", "--max-time", "5", "--http2-prior-knowledge", "http://\(m.endpoint)/health"])
        #expect(h2c.exitCode != 0 && !h2c.stdout.contains("health"))
        let h1 = try ProcessRunner.run("curl", ["-sS", "--max-time", "5", "http://\(m.endpoint)/health"])
        #expect(h1.exitCode != 0 && !h1.stdout.contains("health"))
        let log = m.logTail(bytes: 400_000)
        #expect(log.contains("rejected connection") && log.contains("revoked"), "\(m.logTail())")
        // The member still serves a good client.
        let ok = try etcdctl(m.clientURL, tlsArgs() + ["put", "after", "refusals"])
        #expect(ok.exitCode == 0, "\(ok.stderr)")
        #expect(m.process?.isRunning == true)
    }

    @Test func mixedSchemesEachGetWhatTheyAskFor() throws {
        let clientPort = freePort(), plainPort = freePort()
        let urls = "https://127.0.0.1:\(clientPort),http://127.0.0.1:\(plainPort)"
        // The later --listen-client-urls wins (Go's flag package).
        let mixed = try ServerProcess(extraArgs: ["--cert-file", server.cert, "--key-file", server.key,
                                                  "--trusted-ca-file", pki.caCert, "--client-cert-auth",
                                                  "--listen-client-urls", urls, "--advertise-client-urls", urls],
                                      clientPort: clientPort, clientScheme: "https")
        try mixed.start()
        defer { mixed.stop(); mixed.removeData(); pki.remove() }
        let plain = try etcdctl("http://127.0.0.1:\(plainPort)", ["put", "mixed", "plain"])
        #expect(plain.exitCode == 0, "\(plain.stderr)")
        let secure = try etcdctl(mixed.clientURL, tlsArgs() + ["get", "mixed", "--print-value-only"])
        #expect(secure.stdout == "plain\n", "\(secure.stderr)")
        let insecureOnTLS = try etcdctl("http://\(mixed.endpoint)", ["--dial-timeout", "2s", "--command-timeout", "2s", "get", "mixed"])
        #expect(insecureOnTLS.exitCode != 0)
        let health = try ProcessRunner.run("curl", ["-sS", "--max-time", "5", "http://127.0.0.1:\(plainPort)/health"])
        #expect(health.stdout.contains(#""health":"true""#))
    }

    @Test func separateHTTPListenerAndHTTPSMetrics() throws {
        let httpPort = freePort(), metricsPort = freePort()
        let m = try startMember(["--listen-client-http-urls", "https://127.0.0.1:\(httpPort)",
                                 "--listen-metrics-urls", "https://127.0.0.1:\(metricsPort)"])
        defer { m.stop(); m.removeData(); pki.remove() }
        // gRPC on the client URL; HTTP/1.1 is not served there any more.
        #expect(try etcdctl(m.clientURL, tlsArgs() + ["put", "split", "1"]).exitCode == 0)
        #expect(try curl(["--http1.1", m.clientURL + "/health"]).exitCode != 0)
        // HTTP on the HTTP URL, gRPC refused there.
        let health = try curl(["https://127.0.0.1:\(httpPort)/health"])
        #expect(health.stdout.contains(#""health":"true""#), "\(health.stdout) \(health.stderr)")
        let range = try curl(["-X", "POST", "-d", #"{"key":"c3BsaXQ="}"#, "https://127.0.0.1:\(httpPort)/v3/kv/range"])
        #expect(range.stdout.contains("\"value\":\"MQ==\""), "\(range.stdout)")
        #expect(try etcdctl("https://127.0.0.1:\(httpPort)", tlsArgs() + ["--dial-timeout", "2s", "--command-timeout", "2s", "get", "split"]).exitCode != 0)
        // https metrics with the client certificates.
        let metrics = try curl(["https://127.0.0.1:\(metricsPort)/metrics"])
        #expect(metrics.stdout.contains("etcd_server_has_leader"), "\(metrics.stderr)")
    }

    @Test func autoTLSGeneratesAndServes() throws {
        let m = try ServerProcess(extraArgs: ["--auto-tls", "--self-signed-cert-validity", "2"], clientScheme: "https")
        try m.start()
        defer { m.stop(); m.removeData(); pki.remove() }
        let r = try etcdctl(m.clientURL, ["--insecure-transport=false", "--insecure-skip-tls-verify", "put", "auto", "1"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let cert = m.dataDir + "/fixtures/client/cert.pem"
        let dates = try ProcessRunner.run("openssl", ["x509", "-in", cert, "-noout", "-subject", "-ext", "subjectAltName", "-enddate"])
        #expect(dates.stdout.contains("O = etcd") && dates.stdout.contains("IP Address:127.0.0.1"), "\(dates.stdout)")
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        #expect(dates.stdout.contains("\(year + 2) GMT"), "\(dates.stdout)")
        // An ECDSA P-521 key as etcd's SelfCert makes; grpcio (BoringSSL)
        // trusting the generated certificate completes its handshake.
        let text = try ProcessRunner.run("openssl", ["x509", "-in", cert, "-noout", "-text"]).stdout
        #expect(text.contains("NIST CURVE: P-521") && text.contains("CA:FALSE"), "\(text)")
        let python = PackagePaths.root.appendingPathComponent(".venv/bin/python").path
        let script = PackagePaths.root.appendingPathComponent("Tests/PythonClients/etcd3_tls_check.py").path
        let p = try ProcessRunner.run(python, [script, String(m.clientPort), cert, "-", "-"], timeoutSeconds: 90)
        #expect(p.exitCode == 0 && p.stdout.contains("ok"), "\(p.stderr)")
    }

    @Test func rotatedServerCertificateIsServedWithoutRestart() throws {
        let m = try startMember()
        defer { m.stop(); m.removeData(); pki.remove() }
        func servedSerial() throws -> String {
            let r = try ProcessRunner.run("openssl", ["s_client", "-connect", m.endpoint, "-CAfile", pki.caCert,
                                                      "-cert", client.cert, "-key", client.key], stdin: "")
            let pem = r.stdout.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().first
                .map { "-----BEGIN CERTIFICATE-----" + $0.components(separatedBy: "-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n" }
            let file = pki.dir + "/served-\(UUID().uuidString).crt"
            try (pem ?? "").write(toFile: file, atomically: true, encoding: .utf8)
            return try TestPKI.serial(file)
        }
        let before = try servedSerial()
        let original = try TestPKI.serial(server.cert)
        #expect(before == original)
        _ = try pki.issue("server", cn: "server-rotated", ips: ["127.0.0.1"], dns: ["localhost"])
        let after = try servedSerial()
        let rotated = try TestPKI.serial(server.cert)
        #expect(after == rotated && after != before)
        #expect(try etcdctl(m.clientURL, tlsArgs() + ["put", "rotated", "1"]).exitCode == 0)
    }

    @Test func startUpErrorsAsEtcd() throws {
        let missing = try ServerProcess(extraArgs: ["--cert-file", pki.dir + "/nope.crt", "--key-file", server.key],
                                        clientScheme: "https")
        defer { missing.removeData(); pki.remove() }
        #expect(throws: (any Error).self) { try missing.start(timeoutSeconds: 10) }
        #expect(missing.log.contains("open \(pki.dir)/nope.crt: no such file or directory"), "\(missing.logTail())")
        let mismatch = try ServerProcess(extraArgs: ["--cert-file", server.cert, "--key-file", client.key], clientScheme: "https")
        defer { mismatch.removeData() }
        #expect(throws: (any Error).self) { try mismatch.start(timeoutSeconds: 10) }
        #expect(mismatch.log.contains("tls: private key does not match public key"), "\(mismatch.logTail())")
    }
}
