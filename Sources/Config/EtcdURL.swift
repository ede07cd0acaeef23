/// A listen/advertise URL as etcd accepts it (`types.NewURLs`): scheme
/// http, https, unix or unixs; a `host:port` authority; no path.
public struct EtcdURL: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    /// Host without IPv6 brackets, e.g. `127.0.0.1`, `localhost`, `::1`.
    public let host: String
    /// The port text as written (etcd keeps it a string; unix socket names
    /// like `unix://localhost:12345` still carry one).
    public let port: String
    /// The URL as given (trimmed), e.g. `http://127.0.0.1:2379`.
    public let string: String

    public var description: String { string }
    /// `https` or `unixs`.
    public var isSecure: Bool { scheme == "https" || scheme == "unixs" }
    public var isUnix: Bool { scheme == "unix" || scheme == "unixs" }
    /// Go's `url.String()` of the URL as etcd stores a member's peer URLs:
    /// the scheme lower-cased, the rest as given.
    public var canonical: String { scheme + string.dropFirst(scheme.utf8.count) }
    /// The port as a number when it is one.
    public var portNumber: Int? { Int(port).flatMap { (0...65535).contains($0) ? $0 : nil } }

    /// Parses one URL with etcd's rules and error texts.
    public static func parse(_ raw: String) throws(FlagValueError) -> EtcdURL {
        let text = raw.trimmingSpaces()
        if let goError = GoURLSyntax.parseError(text) { throw FlagValueError(goError) }
        guard let schemeEnd = text.range(of: "://") else {
            if text.contains(":"), let colon = text.firstIndex(of: ":"), colon != text.startIndex,
               text[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
            {
                // "http:host" style: Go parses an opaque URL with an empty host.
                let scheme = text[..<colon].lowercased()
                if ["http", "https", "unix", "unixs"].contains(scheme) {
                    throw FlagValueError("URL address does not have the form \"host:port\": \(text)")
                }
            }
            throw FlagValueError("URL scheme must be http, https, unix, or unixs: \(text)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard ["http", "https", "unix", "unixs"].contains(scheme) else {
            throw FlagValueError("URL scheme must be http, https, unix, or unixs: \(text)")
        }
        var rest = text[schemeEnd.upperBound...]
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
        var authority = rest
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[slash...]
        }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard let (host, port) = splitHostPort(authority) else {
            throw FlagValueError("URL address does not have the form \"host:port\": \(text)")
        }
        guard path.isEmpty else { throw FlagValueError("URL must not contain a path: \(text)") }
        return EtcdURL(scheme: scheme, host: host, port: port, string: text)
    }

    /// Comma-separated list; etcd rejects an empty list.
    public static func parseList(_ text: String) throws(FlagValueError) -> [EtcdURL] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty else { throw FlagValueError("no valid URLs given") }
        var out: [EtcdURL] = []
        for p in parts { out.append(try parse(p)) }
        return out
    }

    /// Go `net.SplitHostPort`: `host:port` or `[v6]:port`; the port may be empty.
    static func splitHostPort(_ s: Substring) -> (String, String)? {
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            let host = s[s.index(after: s.startIndex)..<close]
            let after = s[s.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            let port = after.dropFirst()
            guard !port.contains(":") else { return nil }
            return (String(host), String(port))
        }
        guard let colon = s.lastIndex(of: ":") else { return nil }
        let host = s[..<colon]
        guard !host.contains(":") else { return nil }  // bare IPv6 needs brackets
        return (String(host), String(s[s.index(after: colon)...]))
    }
}
