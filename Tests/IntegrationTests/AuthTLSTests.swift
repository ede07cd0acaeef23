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

    /// `--client-cert-file`/`--client-key-file` are what etcd's JSON gateway
    /// presents when it dials its own gRPC server (etcd's TLSInfo: the client
    /// pair, else the server pair). With a server-only `--cert-file` and a
    /// client-only `--client-cert-file` (CN "app"), a gateway call without an
    /// `Accept` header runs as "app", one with it (grpc-gateway forwards it
    /// as `grpcgateway-accept`) has no user, as etcd 3.5.1 answers; without
    /// `--client-cert-file` the server-only certificate fails the gateway's
    /// own handshake and every call answers 503 as etcd's does. curl
    /// presents a certificate without a CN (etcd refuses a gateway request
    /// whose certificate names one).
    @Test func gatewayPresentsTheClientCertificateFile() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try pki.issue("server", cn: "server", ips: ["127.0.0.1"], serverOnly: true)
        let gateway = try pki.issue("gateway", cn: "app", clientOnly: true)
        let root = try pki.issue("root", cn: "root", clientOnly: true)
        let anonymous = try pki.issue("anonymous", cn: "", clientOnly: true)
        let etcdctl = PackagePaths.root.appendingPathComponent(".venv/bin/etcdctl").path
        let serving = ["--cert-file", server.cert, "--key-file", server.key, "--trusted-ca-file", pki.caCert, "--client-cert-auth"]
        func range(_ s: ServerProcess, accept: Bool) throws -> String {
            var args = ["-s", "-w", " %{http_code}", "--cacert", pki.caCert, "--cert", anonymous.cert, "--key", anonymous.key,
                        "-X", "POST", s.clientURL + "/v3/kv/range", "-d", #"{"key":"YXBwL3g="}"#]
            if !accept { args += ["-H", "Accept:"] }
            return try ProcessRunner.run("curl", args, timeoutSeconds: 20).stdout
                .replacingOccurrences(of: #""header":\{[^}]*\},?"#, with: "", options: .regularExpression)
        }
        try withOursAndReference(extraArgs: serving + ["--client-cert-file", gateway.cert, "--client-key-file", gateway.key],
                                 clientScheme: "https") { ours, reference in
            let tls = ["--cacert", pki.caCert, "--cert", root.cert, "--key", root.key]
            for s in [ours, reference] {
                // Users root and app, app's role on app/, then a key and auth on.
                for step in Self.flow.prefix(6).map(\.1) + [["put", "app/x", "1"], ["auth", "enable"]] {
                    _ = try AuthEtcdctlTests.run(etcdctl, s.clientURL, tls + step, stdin: nil)
                }
            }
            let asApp = try range(ours, accept: false)
            #expect(asApp.contains(#""value":"MQ==""#) && asApp.hasSuffix(" 200"), "\(asApp)")
            #expect(asApp == (try range(reference, accept: false)))
            let anonymousCall = try range(ours, accept: true)
            #expect(anonymousCall.contains("user name is empty") && anonymousCall.hasSuffix(" 400"), "\(anonymousCall)")
            #expect(anonymousCall == (try range(reference, accept: true)))
        }
        let serverOnly = try ServerProcess(extraArgs: serving, clientScheme: "https")
        try serverOnly.start()
        defer { serverOnly.stop(); serverOnly.removeData() }
        #expect(try range(serverOnly, accept: false) == #"{"error":"connection error: desc = \"transport: authentication handshake failed: remote error: tls: bad certificate\"","code":14,"message":"connection error: desc = \"transport: authentication handshake failed: remote error: tls: bad certificate\""} 503"#)
    }

    /// etcd's gateway dials its own listener: the listener's
    /// `--client-crl-file` applies to the gateway's certificate too, and
    /// with `--client-cert-allowed-hostname` etcd 3.5.1's gateway dial
    /// always fails (its copy of the listener's TLS settings checks the
    /// hostname with no verified chain). Every gateway call then answers
    /// 503, code 14, with grpc-go's dial error, while curl's own certificate
    /// is served (`/health`).
    @Test func gatewayCertificateMeetsTheListenersHostnameAndCRL() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try pki.issue("server", cn: "server", ips: ["127.0.0.1"], serverOnly: true)
        let gateway = try pki.issue("gateway", cn: "", dns: ["gateway.etcd.test"], clientOnly: true)
        let caller = try pki.issue("caller", cn: "", dns: ["allowed.etcd.test"], clientOnly: true)
        let crl = pki.dir + "/crl.pem"
        try pki.revoke(gateway.cert, crlPath: crl)
        let serving = ["--cert-file", server.cert, "--key-file", server.key, "--trusted-ca-file", pki.caCert,
                       "--client-cert-auth", "--client-cert-file", gateway.cert, "--client-key-file", gateway.key]
        func call(_ s: ServerProcess, _ path: String) throws -> String {
            try ProcessRunner.run("curl", ["-s", "-w", " %{http_code}", "--cacert", pki.caCert, "--cert", caller.cert,
                                           "--key", caller.key, s.clientURL + path] + (path == "/health" ? [] : ["-d", #"{"key":"YQ=="}"#]),
                                  timeoutSeconds: 20).stdout
        }
        try withOursAndReference(extraArgs: serving + ["--client-cert-allowed-hostname", "allowed.etcd.test"],
                                 clientScheme: "https") { ours, reference in
            let range = try call(ours, "/v3/kv/range")
            #expect(range.contains("client certificate authentication failed") && range.hasSuffix(" 503"), "\(range)")
            #expect(range == (try call(reference, "/v3/kv/range")))
            #expect(try call(ours, "/health").hasSuffix(" 200"))
        }
        try withOursAndReference(extraArgs: serving + ["--client-crl-file", crl], clientScheme: "https") { ours, reference in
            // etcd's text names the connection's ports and depends on timing
            // ("write tcp 127.0.0.1:…->…: write: broken pipe"): compare the rest.
            for s in [ours, reference] {
                let range = try call(s, "/v3/kv/range")
                #expect(range.contains(#""code":14"#) && range.hasSuffix(" 503"), "\(s.clientURL): \(range)")
                #expect(try call(s, "/health").hasSuffix(" 200"))
            }
            #expect(try call(ours, "/v3/kv/range").contains("write: broken pipe"))
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
