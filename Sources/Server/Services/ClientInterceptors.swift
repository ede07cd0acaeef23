import GRPCWire
import Proto

/// etcd's server interceptors, applied to every registered handler:
/// - a learner answers only Maintenance.Status and serializable Range; every
///   other RPC (streams included) gets "etcdserver: rpc not supported for learner";
/// - a request whose metadata carries `hasleader: true`
///   (clientv3.WithRequireLeader) is refused with "etcdserver: no leader"
///   while this member knows no leader. Streams are checked when they open.
enum ClientInterceptors {
    static let metadataKey = "hasleader"
    static let notSupportedForLearner = ServerError(code: .unavailable, message: "etcdserver: rpc not supported for learner")

    /// Wraps every handler registered so far; call after all services registered.
    static func wrapAll(_ router: GRPCRouter, member: MemberRole) {
        @Sendable func isLearner() -> Bool { member.isLearner }
        @Sendable func checkLeader(_ context: GRPCRequestContext) throws {
            if context.header(metadataKey) == "true" && member.knownLeader == 0 {
                throw ServerError.noLeader.status
            }
        }
        @Sendable func learnerMayServe(_ path: String, _ bytes: [UInt8]) -> Bool {
            if path == Etcdserverpb.MaintenanceService.status.path { return true }
            guard path == Etcdserverpb.KVService.range.path,
                  let request = try? bytes.withUnsafeBytes({ try Etcdserverpb.RangeRequest(serializedBytes: $0) }) else { return false }
            return request.serializable
        }
        for path in router.paths {
            switch router.handler(for: path) {
            case .unary(let h)?:
                router.unary(path) { bytes, context in
                    if isLearner() && !learnerMayServe(path, bytes) { throw notSupportedForLearner.status }
                    try checkLeader(context)
                    return try await h(bytes, context)
                }
                if let inline = router.inlineHandler(for: path) {
                    router.unaryInline(path) { bytes, context in
                        if isLearner() { return nil }  // the async path decides what a learner serves
                        try checkLeader(context)
                        return try inline(bytes, context)
                    }
                }
            case .serverStreaming(let h)?:
                router.serverStreaming(path) { bytes, context, writer in
                    if isLearner() { throw notSupportedForLearner.status }
                    try checkLeader(context)
                    try await h(bytes, context, writer)
                }
            case .bidi(let h)?:
                router.bidi(path) { stream, writer, context in
                    if isLearner() { throw notSupportedForLearner.status }
                    try checkLeader(context)
                    try await h(stream, writer, context)
                }
            case nil:
                break
            }
        }
    }
}
