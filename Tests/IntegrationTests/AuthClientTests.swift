import Auth
import Foundation
import Testing

/// Real clients against an auth-enabled swift-etcd: Go clientv3 with
/// Username/Password (simple and JWT tokens), Python etcd3 with user and
/// password, the JSON gateway with a token, and the permission matrix
/// compared with etcd 3.5.1 (authdiff).
@Suite(.serialized) struct AuthClientTests {
    @Test func goClientV3WithSimpleTokens() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let r = try ProcessRunner.run(try GoPrograms.binary("authclient"), ["-endpoints", server.endpoint], timeoutSeconds: 120)
        #expect(r.exitCode == 0 && r.stdout.contains("authclient ok"), "\(r.stderr)\n\(server.logTail())")
    }

    @Test(arguments: ["RS256", "PS256", "ES256", "HS256"])
    func goClientV3WithJWTTokens(method: String) throws {
        let keys = try JWTKeys(method)
        defer { keys.remove() }
        let server = try ServerProcess(extraArgs: ["--auth-token", keys.option(ttl: "2m")])
        defer { server.stop(); server.removeData() }
        try server.start()
        let r = try ProcessRunner.run(try GoPrograms.binary("authclient"), ["-endpoints", server.endpoint], timeoutSeconds: 120)
        #expect(r.exitCode == 0 && r.stdout.contains("authclient ok"), "\(r.stderr)\n\(server.logTail())")
    }

    /// etcd 3.5.1 and swift-etcd with the same key accept each other's
    /// tokens (same users, same auth revision on both).
    @Test func jwtTokensInteroperateWithEtcd() throws {
        let keys = try JWTKeys("RS256")
        defer { keys.remove() }
        try withOursAndReference(extraArgs: ["--auth-token", keys.option(ttl: "5m")]) { ours, reference in
            for s in [ours, reference] {
                for step in [["user", "add", "root", "--new-user-password=rootpw"], ["auth", "enable"],
                             ["put", "k", "v", "--user=root:rootpw"]] {
                    let r = try etcdctl(s.endpoint, step)
                    #expect(r.exitCode == 0, "\(step): \(r.stderr)")
                }
            }
            for (issuer, verifier) in [(reference, ours), (ours, reference)] {
                let token = try Gateway.authenticate(issuer.endpoint, "root", "rootpw")
                let got = try Gateway.post(verifier.endpoint, "/v3/kv/range", #"{"key":"aw=="}"#, token: token)
                #expect(got.contains(#""value":"dg==""#), "\(issuer.endpoint) → \(verifier.endpoint): \(got)")
            }
        }
    }

    /// Hashes swift-etcd writes verify with Go's bcrypt (etcd's), so a user
    /// store moved to etcd keeps working (Go's hashes verifying here:
    /// `PasswordHasherTests`).
    @Test func bcryptHashesVerifyInGo() throws {
        let passwords = ["rootpw", "", "pässwörd✓", String(repeating: "x", count: 72), String(repeating: "x", count: 73),
                         String(repeating: "é", count: 150)]
        let lines = passwords.map { pw in
            "p=" + pw.utf8.map { String(format: "%02x", $0) }.joined() + " " + String(decoding: PasswordHasher.hash(pw, cost: 4), as: UTF8.self)
        }
        let r = try ProcessRunner.run(try GoPrograms.binary("bcryptcheck"), [], stdin: lines.joined(separator: "\n") + "\n")
        #expect(r.exitCode == 0 && r.stdout.contains("ok \(passwords.count)"), "\(r.stdout)\(r.stderr)")
    }

    @Test func pythonEtcd3WithUserAndPassword() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try Self.createAppUser(server.endpoint)
        let python = PackagePaths.root.appendingPathComponent(".venv/bin/python").path
        let script = PackagePaths.root.appendingPathComponent("Tests/PythonClients/etcd3_auth_check.py").path
        let r = try ProcessRunner.run(python, [script, String(server.clientPort)], timeoutSeconds: 90)
        #expect(r.exitCode == 0 && r.stdout.contains("python etcd3 auth ok"), "\(r.stdout)\(r.stderr)")
    }

    /// etcd's gateway: /v3/auth/authenticate returns a token, later requests
    /// carry it in the Authorization header.
    @Test func gatewayWithToken() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try Self.createAppUser(server.endpoint)
        let token = try Gateway.authenticate(server.endpoint, "app", "apppw")
        #expect(!token.isEmpty)
        let put = try Gateway.post(server.endpoint, "/v3/kv/put", #"{"key":"YXBwL2c=","value":"dg=="}"#, token: token)
        #expect(put.contains("\"revision\""), "\(put)")
        let get = try Gateway.post(server.endpoint, "/v3/kv/range", #"{"key":"YXBwL2c="}"#, token: token)
        #expect(get.contains(#""value":"dg==""#), "\(get)")
        let denied = try Gateway.post(server.endpoint, "/v3/kv/range", #"{"key":"b3V0"}"#, token: token)
        #expect(denied.contains("permission denied"), "\(denied)")
        let anonymous = try Gateway.post(server.endpoint, "/v3/kv/range", #"{"key":"YXBwL2c="}"#, token: nil)
        #expect(anonymous.contains("user name is empty"), "\(anonymous)")
        let bad = try Gateway.post(server.endpoint, "/v3/kv/range", #"{"key":"YXBwL2c="}"#, token: "nope.1")
        #expect(bad.contains("invalid auth token"), "\(bad)")
    }

    /// A NUL inside a user name is part of it (proto3 strings keep every
    /// byte, as etcd does): "a\0b" and "a" are two users, each with its own
    /// password. Sent through the gateway (JSON "\u0000"), answers compared
    /// with etcd 3.5.1's. A password holding a NUL is the one difference:
    /// etcd takes it, ours refuses it (our bcrypt package would hash it short).
    @Test func nulInsideNamesAndPasswordsIsKept() throws {
        let steps: [(String, String)] = [
            ("/v3/auth/user/add", #"{"name":"a\u0000b","password":"pq"}"#),
            ("/v3/auth/user/add", #"{"name":"a","password":"p"}"#),
            ("/v3/auth/user/list", "{}"),
            ("/v3/auth/user/add", #"{"name":"root","password":"r"}"#),
            ("/v3/auth/user/grant", #"{"user":"root","role":"root"}"#),
            ("/v3/auth/enable", "{}"),
            ("/v3/auth/authenticate", #"{"name":"a\u0000b","password":"p"}"#),
            ("/v3/auth/authenticate", #"{"name":"a\u0000b","password":"pq"}"#),
        ]
        func run(_ endpoint: String) throws -> [String] {
            try steps.map { path, body in
                try Gateway.post(endpoint, path, body, token: nil).replacingOccurrences(
                    of: #""(cluster_id|member_id|raft_term|token)":"[^"]*""#, with: "\"$1\":\"N\"", options: .regularExpression)
            }
        }
        try withOursAndReference { ours, reference in
            let expected = try run(reference.endpoint)
            let actual = try run(ours.endpoint)
            for (i, step) in steps.enumerated() { #expect(actual[i] == expected[i], "\(step.0)") }
            #expect(expected[2].contains(#""users":["a","a\u0000b"]"#), "\(expected[2])")
            #expect(expected[6].contains("authentication failed"), "\(expected[6])")
            #expect(expected[7].contains(#""token":"N""#), "\(expected[7])")
            let refused = try Gateway.post(ours.endpoint, "/v3/auth/user/add", #"{"name":"n","password":"p\u0000q"}"#, token: nil)
            #expect(refused.contains("a password holding a NUL byte is not supported"), "\(refused)")
        }
    }

    /// Each RPC × a user with no role, read-only, write-only, read-write and
    /// root (and no token, a bad token), keys inside and outside the grants:
    /// the same answers as etcd 3.5.1, except the RPCs swift-etcd keeps to
    /// root (Compact, MoveLeader, Alarm disarm, LeaseTimeToLive with keys).
    @Test func permissionMatrixMatchesEtcd351() throws {
        try withOursAndReference { ours, reference in
            let r = try ProcessRunner.run(try GoPrograms.binary("authdiff"), ["-a", ours.endpoint, "-b", reference.endpoint],
                                          timeoutSeconds: 600)
            #expect(r.exitCode == 0, "\(r.stdout)\(r.stderr)\n\(ours.logTail())")
            #expect(r.stdout.contains("authdiff: 0 differences"), "\(r.stdout)")
        }
    }

    /// root (root role) and app (read-write on prefix app/), auth enabled.
    static func createAppUser(_ endpoint: String) throws {
        for step in [["user", "add", "root", "--new-user-password=rootpw"], ["user", "grant-role", "root", "root"],
                     ["user", "add", "app", "--new-user-password=apppw"], ["role", "add", "app"],
                     ["role", "grant-permission", "app", "readwrite", "app/", "--prefix"],
                     ["user", "grant-role", "app", "app"], ["auth", "enable"]] {
            let r = try etcdctl(endpoint, step)
            #expect(r.exitCode == 0 || step[1] == "grant-role", "\(step): \(r.stderr)")
        }
    }
}

/// Runs `body` with a fresh swift-etcd and a fresh etcd 3.5.1, both
/// started with `extraArgs`, and stops both afterwards.
func withOursAndReference(extraArgs: [String] = [], clientScheme: String = "http",
                          _ body: (ServerProcess, ServerProcess) throws -> Void) throws {
    let ours = try ServerProcess(extraArgs: extraArgs, clientScheme: clientScheme)
    let reference = try ServerProcess(binary: ReferenceEtcd.binary, extraArgs: extraArgs, clientScheme: clientScheme)
    defer {
        ours.stop(); ours.removeData()
        reference.stop(); reference.removeData()
    }
    try ours.start()
    try reference.start()
    try body(ours, reference)
}

/// etcd's JSON gateway driven with curl.
enum Gateway {
    static func post(_ endpoint: String, _ path: String, _ body: String, token: String?) throws -> String {
        var args = ["-s", "-X", "POST", "http://\(endpoint)\(path)", "-d", body]
        if let token { args += ["-H", "Authorization: \(token)"] }
        let r = try ProcessRunner.run("curl", args, timeoutSeconds: 20)
        return r.stdout
    }

    static func authenticate(_ endpoint: String, _ name: String, _ password: String) throws -> String {
        let out = try post(endpoint, "/v3/auth/authenticate", #"{"name":"\#(name)","password":"\#(password)"}"#, token: nil)
        let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        guard let token = json?["token"] as? String else { throw TestSetupError("no token in \(out)") }
        return token
    }
}

/// Key files for `--auth-token jwt,…`, made with openssl.
struct JWTKeys {
    let dir: String
    let method: String
    let priv: String
    let pub: String?

    init(_ method: String) throws {
        self.method = method
        dir = NSTemporaryDirectory() + "jwt-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        priv = dir + "/key.pem"
        switch method.prefix(2) {
        case "HS":
            try Data(String(repeating: "0123456789abcdef", count: 4).utf8).write(to: URL(fileURLWithPath: priv))
            pub = nil
            return
        case "ES":
            _ = try ProcessRunner.run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", priv])
        default:
            _ = try ProcessRunner.run("openssl", ["genrsa", "-out", priv, "2048"])
        }
        pub = dir + "/key.pub"
        _ = try ProcessRunner.run("openssl", ["pkey", "-in", priv, "-pubout", "-out", pub!])
    }

    func option(ttl: String) -> String {
        var o = "jwt,sign-method=\(method),priv-key=\(priv),ttl=\(ttl)"
        if let pub { o += ",pub-key=\(pub)" }
        return o
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}
