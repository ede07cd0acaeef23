import GRPCWire
import Proto

/// etcd's server interceptors, applied to every registered handler:
/// - a learner answers only Maintenance.Status and serializable Range; every
///   other RPC (streams included) gets "etcdserver: rpc not supported for learner";
/// - a request whose metadata carries `hasleader: true`
///   (clientv3.WithRequireLeader) is refused with "etcdserver: no leader"
///   while this member knows no leader. Streams are checked when they open,
///   and an open one ends with "etcdserver: no leader" once the member has
///   known no leader for `noLeaderChecks` election timeouts in a row (etcd's
///   monitorLeader), so a client (Kubernetes' watches) on a member cut off
///   from the others reconnects elsewhere instead of waiting for events that
///   never come.
enum ClientInterceptors {
    /// etcd's maxNoLeaderCnt: reconnecting a stream costs more than refusing
    /// a new request, so an open stream gets a few election timeouts.
    static let noLeaderChecks = 3
    static let metadataKey = "hasleader"
    static let notSupportedForLearner = ServerError(code: .unavailable, message: "etcdserver: rpc not supported for learner")

    /// Wraps every handler registered so far; call after all services registered.
    static func wrapAll(_ router: GRPCRouter, member: MemberRole, electionTimeoutMs: Int) {
        let interval = UInt64(max(electionTimeoutMs, 1)) * 1_000_000
        /// Runs a stream's handler; with `hasleader: true`, ends it with
        /// "no leader" after `noLeaderChecks` leaderless checks in a row.
        @Sendable func guarded(_ context: GRPCRequestContext, _ body: @escaping @Sendable () async throws -> Void) async throws {
            guard context.header(metadataKey) == "true" else { return try await body() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    var leaderless = 0
                    while leaderless < noLeaderChecks {
                        try? await Task.sleep(nanoseconds: interval)
                        if Task.isCancelled { return }
                        leaderless = member.knownLeader == 0 ? leaderless + 1 : 0
                    }
                    throw ServerError.noLeader.status
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
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
                let callback = router.callbackHandler(for: path)
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
                if let callback {
                    router.unaryCallback(path) { bytes, context, reply in
                        if isLearner() { return false }  // the async path decides what a learner serves
                        try checkLeader(context)
                        return try callback(bytes, context, reply)
                    }
                }
            case .serverStreaming(let h)?:
                router.serverStreaming(path) { bytes, context, writer in
                    if isLearner() { throw notSupportedForLearner.status }
                    try checkLeader(context)
                    try await guarded(context) { try await h(bytes, context, writer) }
                }
            case .bidi(let h)?:
                router.bidi(path) { stream, writer, context in
                    if isLearner() { throw notSupportedForLearner.status }
                    try checkLeader(context)
                    try await guarded(context) { try await h(stream, writer, context) }
                }
            case nil:
                break
            }
        }
    }
}
