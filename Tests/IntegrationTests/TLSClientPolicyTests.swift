import Foundation
import Testing

/// `--tls-min-version`, `--tls-max-version`, `--cipher-suites` and
/// `--client-cert-allowed-hostname` on the wire: `openssl s_client` offers
/// each version and suite, curl presents certificates with and without the
/// allowed hostname. One member for all of them.
@Suite(.serialized) struct TLSClientPolicyTests {
    @Test func versionsSuitesAndAllowedHostname() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try pki.issue("server", cn: "server", ips: ["127.0.0.1"])
        let named = try pki.issue("named", cn: "named", dns: ["client.example"], clientOnly: true)
        let unnamed = try pki.issue("unnamed", cn: "unnamed", dns: ["other.example"], clientOnly: true)
        let m = try ServerProcess(extraArgs: ["--cert-file", server.cert, "--key-file", server.key,
                                              "--trusted-ca-file", pki.caCert, "--client-cert-auth",
                                              "--client-cert-allowed-hostname", "client.example",
                                              "--tls-min-version", "TLS1.2", "--tls-max-version", "TLS1.2",
                                              "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                                  clientScheme: "https")
        try m.start()
        defer { m.stop(); m.removeData() }

        /// The cipher `openssl s_client` negotiated, "(NONE)" when the handshake failed.
        func negotiated(_ options: [String]) throws -> String {
            let r = try ProcessRunner.run("openssl", ["s_client", "-connect", m.endpoint, "-CAfile", pki.caCert,
                                                      "-cert", named.cert, "-key", named.key] + options, stdin: "")
            guard let line = r.stdout.split(separator: "\n").first(where: { $0.contains("Cipher is") }) else { return "(NONE)" }
            return String(line.split(separator: " ").last ?? "")
        }
        #expect(try negotiated(["-tls1_2"]) == "ECDHE-RSA-AES128-GCM-SHA256")
        #expect(try negotiated(["-tls1_3"]) == "(NONE)")
        #expect(try negotiated(["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]) == "(NONE)")

        // Only a client certificate valid for the allowed hostname gets in.
        func health(_ pair: TestPKI.Pair) throws -> CommandResult {
            try ProcessRunner.run("curl", ["-sS", "--max-time", "10", "--cacert", pki.caCert, "--cert", pair.cert,
                                           "--key", pair.key, m.clientURL + "/health"])
        }
        #expect(try health(named).stdout.contains(#""health":"true""#))
        let refused = try health(unnamed)
        #expect(refused.exitCode != 0 && !refused.stdout.contains("health"), "\(refused.stdout)")
        #expect(m.log.contains("client certificate authentication failed"), "\(m.logTail())")
        // Go's clientv3 (etcdctl) negotiates the one suite and version left.
        let put = try etcdctl(m.clientURL, ["--cacert", pki.caCert, "--cert", named.cert, "--key", named.key, "put", "k", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
    }
}
