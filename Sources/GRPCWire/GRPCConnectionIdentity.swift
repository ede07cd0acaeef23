import NIOCore

/// Who is on the other end of a connection, as established underneath
/// GRPCWire (by `GRPCServerConfig.connectionInitializer`, e.g. a TLS
/// handshake that verified a client certificate). GRPCWire only carries it
/// to each call's `GRPCRequestContext`; policy stays with whoever fills it.
public struct GRPCConnectionIdentity: Sendable, Equatable {
    /// The Common Name of the client certificate verified at the TLS
    /// handshake (`--client-cert-auth`); nil on plain TCP, or when the
    /// handshake asked for no certificate. etcd's auth takes it as the user
    /// name when no token is sent.
    public var verifiedClientCertCommonName: String?

    public init(verifiedClientCertCommonName: String? = nil) {
        self.verifiedClientCertCommonName = verifiedClientCertCommonName
    }
}

/// The inbound user event that announces a connection's identity. A handler
/// added by the connection initializer fires it once, before the first
/// request byte reaches GRPCWire (e.g. on TLS handshake completion).
public struct GRPCConnectionIdentified: Sendable {
    public var identity: GRPCConnectionIdentity
    public init(_ identity: GRPCConnectionIdentity) { self.identity = identity }
}

/// Runs on each accepted connection before GRPCWire's own handlers are
/// added: adds whatever sits underneath HTTP/2 and HTTP/1.1 (TLS). The
/// future may complete later (e.g. after reloading certificates off the
/// event loop); a failed future closes the connection.
public typealias GRPCConnectionInitializer = @Sendable (any Channel) -> EventLoopFuture<Void>
