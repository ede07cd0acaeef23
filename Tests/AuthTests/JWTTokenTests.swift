import Foundation
import Testing
@testable import Auth

/// Keys made by openssl as an operator would, in the PEM forms etcd reads.
enum TestKeys {
    static func dir() -> String {
        let d = NSTemporaryDirectory() + "jwt-keys-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    static func openssl(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw TokenOptionsError("openssl \(args) failed") }
    }

    /// (private, public) PEM files for a method's key type.
    static func make(_ method: String, in d: String) throws -> (String, String) {
        let priv = d + "/\(method).key", pub = d + "/\(method).pub"
        switch method.prefix(2) {
        case "RS", "PS": try openssl(["genrsa", "-out", priv, "2048"])
        case "ES":
            let curve = ["ES256": "prime256v1", "ES384": "secp384r1", "ES512": "secp521r1"][method]!
            try openssl(["ecparam", "-name", curve, "-genkey", "-noout", "-out", priv])
        default:
            try Data(String(repeating: "a shared secret ", count: 5).utf8).write(to: URL(fileURLWithPath: priv))
            return (priv, "")
        }
        try openssl(["pkey", "-in", priv, "-pubout", "-out", pub])
        return (priv, pub)
    }
}

@Suite struct JWTTokenTests {
    @Test(arguments: ["RS256", "PS384", "ES256", "ES384", "ES512", "HS256", "HS512"])
    func signAndVerify(method: String) async throws {
        let d = TestKeys.dir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (priv, pub) = try TestKeys.make(method, in: d)
        let options = TokenOptions.JWTOptions(signMethod: method, publicKeyFile: pub.isEmpty ? nil : pub, privateKeyFile: priv)
        let jwt = try JWTTokens(options: options)
        let token = try await jwt.sign(user: "alice", revision: 7)
        #expect(await jwt.verify(token) == AuthInfo(username: "alice", revision: 7))
        #expect(await jwt.verify(token + "x") == nil)
        #expect(await jwt.verify("not.a.token") == nil)
        var expired = options
        expired.ttlSeconds = -10
        let old = try await JWTTokens(options: expired).sign(user: "alice", revision: 7)
        #expect(await jwt.verify(old) == nil, "expired")
        if !pub.isEmpty {
            let verifier = try JWTTokens(options: TokenOptions.JWTOptions(signMethod: method, publicKeyFile: pub))
            #expect(verifier.verifyOnly)
            #expect(await verifier.verify(token) == AuthInfo(username: "alice", revision: 7))
            await #expect(throws: AuthFailure.verifyOnly) { try await verifier.sign(user: "a", revision: 1) }
        }
    }

    @Test func otherAlgorithmIsRefused() async throws {
        let d = TestKeys.dir()
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (priv, _) = try TestKeys.make("RS256", in: d)
        let rs256 = try JWTTokens(options: .init(signMethod: "RS256", privateKeyFile: priv))
        let rs512 = try JWTTokens(options: .init(signMethod: "RS512", privateKeyFile: priv))
        #expect(await rs256.verify(try await rs512.sign(user: "a", revision: 1)) == nil)
        #expect(throws: TokenOptionsError("auth: missing key data")) {
            _ = try JWTTokens(options: .init(signMethod: "RS256"))
        }
        let short = d + "/short"
        try Data("tiny".utf8).write(to: URL(fileURLWithPath: short))
        #expect(throws: TokenOptionsError("auth: HS256 needs a key of at least 32 bytes, priv-key has 4")) {
            _ = try JWTTokens(options: .init(signMethod: "HS256", privateKeyFile: short))
        }
    }
}
