import Foundation
import Testing

/// With `--client-cert-auth`, a request without a token is the user its
/// client certificate names (CN), as etcd's AuthInfoFromTLS: every step runs
/// with etcdctl 3.5.1 against swift-etcd and etcd 3.5.1 (same certificates,
/// both fresh), and each answer must be the same.
@Suite(.serialized) struct AuthTLSTests {
    /// (certificate CN, etcdctl arguments). Root's certificate manages auth
    /// without a password; a token (`--user`) wins over the certificate.
    static let flow: [(String, [String])] = [
        ("root", ["user", "add", "root", "--new-user-password=rootpw"]),
        ("root", ["user", "grant-role", "root", "root"]),
        ("root", ["user", "add", "app", "--new-user-password=apppw"]),
        ("root", ["role", "add", "app"]),
        ("root", ["role", "grant-permission", "app", "readwrite", "app/", "--prefix"]),
        ("root", ["user", "grant-role", "app", "app"]),
        ("root", ["auth", "enable"]),
        ("root", ["put", "other/x", "1"]),
        ("app", ["put", "app/x", "2"]),
        ("app", ["get", "app/x", "--print-value-only"]),
        ("app", ["get", "other/x"]),
        ("app", ["user", "list"]),
        ("app", ["get", "other/x", "--print-value-only", "--user=root:rootpw"]),
        ("stranger", ["get", "app/x"]),
        ("root", ["user", "list"]),
        ("root", ["auth", "disable"]),
    ]

    @Test func clientCertificateCommonNameIsTheUser() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try pki.issue("server", cn: "server", ips: ["127.0.0.1"], dns: ["localhost"])
        var pairs: [String: TestPKI.Pair] = [:]
        for cn in ["root", "app", "stranger"] { pairs[cn] = try pki.issue(cn, cn: cn, clientOnly: true) }
        let etcdctl = PackagePaths.root.appendingPathComponent(".venv/bin/etcdctl").path
        let flags = ["--cert-file", server.cert, "--key-file", server.key, "--trusted-ca-file", pki.caCert, "--client-cert-auth"]
        try withOursAndReference(extraArgs: flags, clientScheme: "https") { ours, reference in
            for (cn, step) in Self.flow {
                if step == ["auth", "disable"] { try Self.compareGateway(pki, pairs, ours.clientURL, reference.clientURL) }
                let tls = ["--cacert", pki.caCert, "--cert", pairs[cn]!.cert, "--key", pairs[cn]!.key]
                let expected = try AuthEtcdctlTests.run(etcdctl, reference.clientURL, tls + step, stdin: nil)
                let actual = try AuthEtcdctlTests.run(etcdctl, ours.clientURL, tls + step, stdin: nil)
                #expect(actual == expected, "\(cn): \(step.joined(separator: " "))")
            }
        }
    }

    /// With auth on, etcd's gateway refuses a `/v3/` (or `/v3beta/`) request
    /// whose HTTP client certificate has a CN (HTTP 400 and a fixed text); other
    /// paths are served. Status, content type and body must equal etcd 3.5.1's.
    static func compareGateway(_ pki: TestPKI, _ pairs: [String: TestPKI.Pair], _ ours: String, _ reference: String) throws {
        func curl(_ base: String, _ cn: String, _ path: String) throws -> String {
            let body = path == "/health" ? [] : ["-d", #"{"key":"YQ=="}"#]
            let r = try ProcessRunner.run("curl", [
                "-s", "--cacert", pki.caCert, "--cert", pairs[cn]!.cert, "--key", pairs[cn]!.key,
                "-w", "\n%{http_code} %{content_type}", base + path,
            ] + body, timeoutSeconds: 20)
            return path == "/health" ? String(r.stdout.split(separator: "\n").last ?? "") : r.stdout
        }
        for (cn, path) in [("app", "/v3/kv/range"), ("root", "/v3beta/kv/put"), ("app", "/v3/nowhere"), ("app", "/health")] {
            let expected = try curl(reference, cn, path)
            #expect(try curl(ours, cn, path) == expected, "\(cn) \(path)")
            #expect(expected.hasPrefix(path == "/health" ? "200" : "CommonName of client sending"), "\(path): \(expected)")
        }
    }
}
