/// `--auth-token`, parsed as etcd's decomposeOpts and jwtOptions:
/// "simple", or "jwt,sign-method=RS256,pub-key=FILE,priv-key=FILE,ttl=5m"
/// (options in any order; unknown ones are ignored with a warning by etcd).
public enum TokenOptions: Equatable, Sendable {
    case simple
    case jwt(JWTOptions)

    public struct JWTOptions: Equatable, Sendable {
        public var signMethod: String
        public var publicKeyFile: String?
        public var privateKeyFile: String?
        /// etcd's default: 5 minutes.
        public var ttlSeconds: Double = 300
    }

    /// etcd's known signing methods (golang-jwt's registry).
    public static let signMethods: Set<String> = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "HS256", "HS384", "HS512",
    ]

    /// Errors carry etcd's text; `parseDuration` is Go's time.ParseDuration
    /// (in seconds) for `ttl=`.
    public static func parse(_ text: String, parseDuration: (String) throws -> Double) throws -> TokenOptions {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var options: [String: String] = [:]
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2, options[pair[0]] == nil else { throw TokenOptionsError("auth: invalid auth options") }
            options[pair[0]] = pair[1]
        }
        switch parts.first ?? "" {
        case "simple":
            return .simple
        case "jwt":
            var jwt = JWTOptions(signMethod: options["sign-method"] ?? "")
            if let ttl = options["ttl"], !ttl.isEmpty {
                do { jwt.ttlSeconds = try parseDuration(ttl) } catch { throw TokenOptionsError("\(error)") }
            }
            if let f = options["pub-key"], !f.isEmpty { jwt.publicKeyFile = f }
            if let f = options["priv-key"], !f.isEmpty { jwt.privateKeyFile = f }
            guard signMethods.contains(jwt.signMethod) else { throw TokenOptionsError("auth: invalid auth signature method") }
            return .jwt(jwt)
        default:
            throw TokenOptionsError("auth: invalid auth options")
        }
    }
}

public struct TokenOptionsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
