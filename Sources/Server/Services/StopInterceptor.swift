import GRPCWire

/// Ends every open stream (watch, lease keep-alive, election observe,
/// snapshot) with etcd's "etcdserver: server stopped" (Unavailable, which
/// clientv3 retries on another member) the moment the member starts to
/// stop. Unary calls are left to finish: they are bounded by the request
/// timeout and the listener's drain deadline.
enum StopInterceptor {
    static func wrapAll(_ router: GRPCRouter, stopping: OneShotSignal) {
        @Sendable func race(_ body: @escaping @Sendable () async throws -> Void) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    await stopping.wait()
                    if !Task.isCancelled { throw ServerError.stopped.status }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
        for path in router.paths {
            switch router.handler(for: path) {
            case .serverStreaming(let h)?:
                router.serverStreaming(path) { bytes, context, writer in
                    try await race { try await h(bytes, context, writer) }
                }
            case .bidi(let h)?:
                router.bidi(path) { stream, writer, context in
                    try await race { try await h(stream, writer, context) }
                }
            case .unary?, nil:
                break
            }
        }
    }
}
