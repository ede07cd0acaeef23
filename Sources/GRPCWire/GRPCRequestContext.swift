import NIOCore

/// What a handler knows about its call besides the request bytes.
public struct GRPCRequestContext: Sendable {
    /// Request metadata: every non-pseudo header, names lower-case, in arrival order.
    public var headers: [(String, String)]
    /// The call's `:path`, e.g. "/etcdserverpb.KV/Range".
    public var path: String
    /// From `grpc-timeout`; the call ends with DEADLINE_EXCEEDED when it passes.
    public var deadline: NIODeadline?
    public var remoteAddress: SocketAddress?
    /// Who the connection belongs to, as established under HTTP (see
    /// `GRPCConnectionIdentity`); empty on plain TCP.
    public var identity: GRPCConnectionIdentity
    /// The Common Name of the client certificate verified at this
    /// connection's TLS handshake (`--client-cert-auth`), or nil. etcd's auth
    /// uses it as the user name when a call carries no token.
    public var verifiedClientCertCommonName: String? { identity.verifiedClientCertCommonName }

    public init(headers: [(String, String)], path: String, deadline: NIODeadline? = nil,
                remoteAddress: SocketAddress? = nil, identity: GRPCConnectionIdentity = GRPCConnectionIdentity()) {
        self.headers = headers
        self.path = path
        self.deadline = deadline
        self.remoteAddress = remoteAddress
        self.identity = identity
    }

    /// The first value of a header (name compared case-insensitively; names arrive lower-case).
    public func header(_ name: String) -> String? {
        if headers.isEmpty { return nil }  // most calls carry no metadata
        // Callers pass constant lower-case names: no lowercased() copy per call then.
        let lower = name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) ? name.lowercased() : name
        for (key, value) in headers where key == lower { return value }
        return nil
    }
}

extension GRPCRequestContext {
    /// The running call's deadline (nil: none, or not inside a call), bound
    /// around the handler as Go binds a context: code several calls below
    /// the handler (a Raft proposal, a read barrier) checks it before it
    /// starts work whose outcome nobody could wait for.
    @TaskLocal public static var currentDeadline: NIODeadline?

    /// DEADLINE_EXCEEDED when the running call's deadline has passed (etcd's
    /// Propose and read wait return the context's error first).
    public static func checkDeadline() throws {
        if let deadline = currentDeadline, deadline <= .now() {
            throw GRPCStatus(.deadlineExceeded, "context deadline exceeded")
        }
    }
}
