import GRPCWire

/// etcd's "hasleader" interceptor: a request whose metadata carries
/// `hasleader: true` (clientv3.WithRequireLeader) is refused with
/// "etcdserver: no leader" while this member knows no leader. Streams are
/// checked when they open.
enum RequireLeader {
    static let metadataKey = "hasleader"

    /// Wraps every handler registered so far; call after all services registered.
    static func wrapAll(_ router: GRPCRouter, server: EtcdServer) {
        @Sendable func check(_ context: GRPCRequestContext) throws {
            if context.header(metadataKey) == "true" && server.loop.status.leader == 0 {
                throw ServerError.noLeader.status
            }
        }
        for path in router.paths {
            switch router.handler(for: path) {
            case .unary(let h)?:
                router.unary(path) { bytes, context in try check(context); return try await h(bytes, context) }
            case .serverStreaming(let h)?:
                router.serverStreaming(path) { bytes, context, writer in try check(context); try await h(bytes, context, writer) }
            case .bidi(let h)?:
                router.bidi(path) { stream, writer, context in try check(context); try await h(stream, writer, context) }
            case nil:
                break
            }
        }
    }
}
