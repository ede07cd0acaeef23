import Foundation
import JWTKit

/// etcd's JWT tokens: claims `username`, `revision` (the auth revision at
/// Authenticate) and `exp` (Unix seconds), signed with the configured
/// method and key, so etcd and swift-etcd sharing keys accept each other's
/// tokens. Any member verifies a token locally; nothing is stored.
public final class JWTTokens: Sendable {
    public let options: TokenOptions.JWTOptions
    /// The key collection is an actor filled asynchronously; keys were parsed (and checked) in `init`.
    private let keys: Task<JWTKeyCollection, Never>
    /// Only a public key was given: tokens verify but cannot be issued.
    public let verifyOnly: Bool

    struct Claims: JWTPayload {
        var username: String
        var revision: UInt64
        var exp: Int64?

        init(username: String, revision: UInt64, exp: Int64) {
            self.username = username
            self.revision = revision
            self.exp = exp
        }

        enum CodingKeys: String, CodingKey { case username, revision, exp }

        /// Go's MapClaims holds JSON numbers as float64: accept either form.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            username = try c.decode(String.self, forKey: .username)
            if let r = try? c.decode(UInt64.self, forKey: .revision) {
                revision = r
            } else {
                let d = try c.decode(Double.self, forKey: .revision)
                guard d >= 0, d < 1.8e19 else { throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "revision") }
                revision = UInt64(d)
            }
            if let e = try? c.decodeIfPresent(Int64.self, forKey: .exp) {
                exp = e
            } else if let d = try c.decodeIfPresent(Double.self, forKey: .exp) {
                exp = d.isFinite ? Int64(max(min(d, 9e18), -9e18)) : nil
            }
        }

        /// Go's MapClaims.Valid: expired once now > exp (a missing exp never expires).
        func verify(using algorithm: some JWTAlgorithm) async throws {
            if let exp, Int64(Date().timeIntervalSince1970) > exp {
                throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "expired")
            }
        }
    }

    /// Loads the keys named by `options` (etcd's newTokenProviderJWT);
    /// throws etcd's error text for missing or unusable keys, so a bad
    /// `--auth-token` refuses start-up.
    public init(options: TokenOptions.JWTOptions) throws {
        self.options = options
        func read(_ path: String?) throws -> String? {
            guard let path else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TokenOptionsError("open \(path): no such file or directory")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let priv = try read(options.privateKeyFile), pub = try read(options.publicKeyFile)
        let method = options.signMethod
        let digest: DigestAlgorithm = method.hasSuffix("256") ? .sha256 : method.hasSuffix("384") ? .sha384 : .sha512
        let add: @Sendable (JWTKeyCollection) async -> Void
        var verifyOnly = false
        do {
            switch method.prefix(2) {
            case "RS", "PS":
                let key: any RSAKey
                if let priv { key = try Insecure.RSA.PrivateKey(pem: priv) } else if let pub {
                    key = try Insecure.RSA.PublicKey(pem: pub)
                    verifyOnly = true
                } else { throw TokenOptionsError("auth: missing key data") }
                let pss = method.hasPrefix("PS")
                add = { pss ? await $0.add(pss: key, digestAlgorithm: digest) : await $0.add(rsa: key, digestAlgorithm: digest) }
            case "ES":
                guard priv != nil || pub != nil else { throw TokenOptionsError("auth: missing key data") }
                verifyOnly = priv == nil
                switch (method, priv) {
                case ("ES256", let priv?): let k = try ES256PrivateKey(pem: priv); add = { await $0.add(ecdsa: k) }
                case ("ES256", nil): let k = try ES256PublicKey(pem: pub!); add = { await $0.add(ecdsa: k) }
                case ("ES384", let priv?): let k = try ES384PrivateKey(pem: priv); add = { await $0.add(ecdsa: k) }
                case ("ES384", nil): let k = try ES384PublicKey(pem: pub!); add = { await $0.add(ecdsa: k) }
                case (_, let priv?): let k = try ES512PrivateKey(pem: priv); add = { await $0.add(ecdsa: k) }
                case (_, nil): let k = try ES512PublicKey(pem: pub!); add = { await $0.add(ecdsa: k) }
                }
            default:  // HS*: the private key file's bytes are the secret
                guard let secret = options.privateKeyFile.flatMap({ FileManager.default.contents(atPath: $0) }), !secret.isEmpty else {
                    throw TokenOptionsError("auth: missing key data")
                }
                // RFC 7518 §3.2 (and JWTKit) require a key at least as long as
                // the hash; etcd does not check. Refuse a shorter one clearly.
                let minBytes = digest == .sha256 ? 32 : digest == .sha384 ? 48 : 64
                guard secret.count >= minBytes else {
                    throw TokenOptionsError("auth: \(method) needs a key of at least \(minBytes) bytes, priv-key has \(secret.count)")
                }
                let key = HMACKey(from: secret)
                add = { await $0.add(hmac: key, digestAlgorithm: digest) }
            }
        } catch let e as TokenOptionsError {
            throw e
        } catch {
            throw TokenOptionsError("failed to load JWT key: \(error)")
        }
        keys = Task {
            let collection = JWTKeyCollection()
            await add(collection)
            return collection
        }
        self.verifyOnly = verifyOnly
    }

    /// A token for `user` at auth `revision`, expiring `ttlSeconds` from now.
    public func sign(user: String, revision: UInt64) async throws(AuthFailure) -> String {
        if verifyOnly { throw .verifyOnly }
        let exp = Int64(Date().timeIntervalSince1970 + options.ttlSeconds)
        do {
            return try await keys.value.sign(Claims(username: user, revision: revision, exp: exp),
                                       header: ["alg": .string(options.signMethod), "typ": "JWT"])
        } catch {
            throw .other("\(error)")
        }
    }

    /// The identity a token carries, nil when it is not one of ours: wrong
    /// algorithm, bad signature, expired, or missing claims.
    public func verify(_ token: String) async -> AuthInfo? {
        guard headerAlgorithm(token) == options.signMethod,
              let claims = try? await keys.value.verify(token, as: Claims.self) else { return nil }
        return AuthInfo(username: claims.username, revision: claims.revision)
    }

    /// The `alg` of a token's header (etcd refuses a token signed with any
    /// other method than its own).
    private func headerAlgorithm(_ token: String) -> String? {
        guard let first = token.split(separator: ".", maxSplits: 1).first else { return nil }
        var b64 = first.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["alg"] as? String
    }
}
