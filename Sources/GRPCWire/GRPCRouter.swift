import NIOConcurrencyHelpers

/// Maps a gRPC method path ("/package.Service/Method") to its handler.
/// Register before `GRPCServer.start()`; lookups are lock-protected so late
/// registration is safe but rarely useful.
public final class GRPCRouter: Sendable {
    public typealias Unary = @Sendable ([UInt8], GRPCRequestContext) async throws -> [UInt8]
    public typealias ServerStreaming = @Sendable ([UInt8], GRPCRequestContext, GRPCResponseWriter) async throws -> Void
    public typealias Bidi = @Sendable (GRPCRequestStream, GRPCResponseWriter, GRPCRequestContext) async throws -> Void
    /// A unary method's synchronous form, run on the connection's event loop
    /// before any task is made: the response, or nil when this call needs the
    /// async handler after all (it then runs as if no inline form existed).
    /// The response leaves `GRPCUnaryReply.headroom` bytes free in front for
    /// its frame header, as `GRPCUnaryReply.answerFramed`'s does, so it is
    /// sent without one more copy.
    /// Must not block and must only take on bounded work (one small read),
    /// since the connection's other calls wait for it.
    ///
    /// A bidi method's inline form answers one request message: it runs on
    /// the loop for a message that arrives while the handler waits for the
    /// next one (so the handler has started and sent everything it had),
    /// and its response (no headroom) goes out in the message's place; nil or a throw
    /// hands the message to the handler instead.
    public typealias Inline = @Sendable ([UInt8], GRPCRequestContext) throws -> [UInt8]?
    /// A unary method's callback form, run on the connection's event loop
    /// before any task is made (after the inline form, if any): true when it
    /// took the call and will answer it once through the `GRPCUnaryReply`
    /// (from any thread, later), false when this call needs the async handler
    /// after all (the reply is then dropped unused). A throw answers the call
    /// with the error at once. For calls that wait on another thread (a write
    /// waiting for its Raft apply): no task, no async frames, no executor hop.
    /// Must not block.
    public typealias Callback = @Sendable ([UInt8], GRPCRequestContext, GRPCUnaryReply) throws -> Bool

    /// A registered method; the kind decides when the handler starts
    /// (unary and server-streaming after the one request message, bidi at once).
    public enum Handler: Sendable {
        case unary(Unary)
        case serverStreaming(ServerStreaming)
        case bidi(Bidi)
    }

    /// Everything about one path, so a call looks its path up once.
    struct Route {
        var handler: Handler?
        /// Metrics hooks (see `GRPCMethodProbe`).
        var probe: (any GRPCMethodProbe)?
        /// The unary method's synchronous form (see `Inline`).
        var inline: Inline?
        /// The unary method's callback form (see `Callback`).
        var callback: Callback?
    }

    /// A path's route as the per-call lookup hands it out: one reference
    /// (returning the closures one by one through the lock's generic
    /// closure boxed each of them again, four allocations per call).
    final class Resolved: Sendable {
        let handler: Handler
        let probe: (any GRPCMethodProbe)?
        let inline: Inline?
        let callback: Callback?

        init(_ handler: Handler, _ route: Route) {
            self.handler = handler
            probe = route.probe
            inline = route.inline
            callback = route.callback
        }
    }

    private struct Table {
        var routes: [String: Route] = [:] {
            didSet { resolved = nil }
        }
        /// `routes` with a handler, as handed out per call; rebuilt on the
        /// first lookup after a registration changed `routes`.
        var resolved: [String: Resolved]?
        /// "/package.Service/" prefixes, to tell an unknown service from an unknown method.
        var services: Set<String> = []

        mutating func add(_ path: String, _ handler: Handler) {
            routes[path, default: Route()].handler = handler
            // A wrapper that re-registers the handler (an interceptor) must
            // not be bypassed by a callback form it does not know about: it
            // re-adds the callback form it wrapped, or the call takes the task.
            routes[path]!.callback = nil
            if let slash = path.lastIndex(of: "/") { services.insert(String(path[...slash])) }
        }
    }

    private let table = NIOLockedValueBox(Table())

    public init() {}

    public func unary(_ path: String, _ handler: @escaping Unary) {
        table.withLockedValue { $0.add(path, .unary(handler)) }
    }

    public func serverStreaming(_ path: String, _ handler: @escaping ServerStreaming) {
        table.withLockedValue { $0.add(path, .serverStreaming(handler)) }
    }

    public func bidi(_ path: String, _ handler: @escaping Bidi) {
        table.withLockedValue { $0.add(path, .bidi(handler)) }
    }

    /// Adds a synchronous form to the unary method at `path`, tried first
    /// (see `Inline`); register the async handler too, as the fallback.
    public func unaryInline(_ path: String, _ handler: @escaping Inline) {
        table.withLockedValue { $0.routes[path, default: Route()].inline = handler }
    }

    /// Adds a callback form to the unary method at `path`, tried after the
    /// inline form (see `Callback`); register the async handler first, as the
    /// fallback (registering a handler again drops the callback form).
    public func unaryCallback(_ path: String, _ handler: @escaping Callback) {
        table.withLockedValue { $0.routes[path, default: Route()].callback = handler }
    }

    /// The callback form registered for `path` (interceptors wrap it as they
    /// wrap the async handler, reading it before they register their wrapper).
    public func callbackHandler(for path: String) -> Callback? {
        table.withLockedValue { $0.routes[path]?.callback }
    }

    /// Adds a per-message synchronous form to the bidi method at `path`
    /// (see `Inline`); the bidi handler stays the one that starts the call
    /// and takes every message the inline form leaves.
    public func bidiInline(_ path: String, _ handler: @escaping Inline) {
        table.withLockedValue { $0.routes[path, default: Route()].inline = handler }
    }

    /// The synchronous form registered for `path` (interceptors wrap it as
    /// they wrap the async handler).
    public func inlineHandler(for path: String) -> Inline? {
        table.withLockedValue { $0.routes[path]?.inline }
    }

    /// Attaches metrics hooks to a registered path; call before `start()`.
    public func setProbe(_ probe: any GRPCMethodProbe, for path: String) {
        table.withLockedValue { $0.routes[path, default: Route()].probe = probe }
    }

    /// The handler, probe, inline and callback forms for `path` in one lookup (the per-call path).
    func routeWithProbe(_ path: String) -> Result<Resolved, GRPCStatus> {
        table.withLockedValue { table in
            if table.resolved == nil {
                var resolved: [String: Resolved] = [:]
                for (path, route) in table.routes {
                    if let handler = route.handler { resolved[path] = Resolved(handler, route) }
                }
                table.resolved = resolved
            }
            if let route = table.resolved?[path] { return .success(route) }
            return .failure(Self.unimplemented(path, table))
        }
    }

    public func handler(for path: String) -> Handler? {
        table.withLockedValue { $0.routes[path]?.handler }
    }

    /// The handler for `path`, or the UNIMPLEMENTED status grpc-go sends for it.
    func route(_ path: String) -> Result<Handler, GRPCStatus> {
        table.withLockedValue { table in
            if let handler = table.routes[path]?.handler { return .success(handler) }
            return .failure(Self.unimplemented(path, table))
        }
    }

    private static func unimplemented(_ path: String, _ table: Table) -> GRPCStatus {
        // "/pkg.Service/Method" → service "pkg.Service", method "Method".
        let trimmed = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        guard let slash = trimmed.lastIndex(of: "/") else {
            // grpc-go (etcd 3.5) answers a path without a slash with RESOURCE_EXHAUSTED, oddly.
            return GRPCStatus(.resourceExhausted, "malformed method name: \"\(path)\"")
        }
        let service = trimmed[..<slash], method = trimmed[trimmed.index(after: slash)...]
        if table.services.contains("/\(service)/") {
            return GRPCStatus(.unimplemented, "unknown method \(method) for service \(service)")
        }
        return GRPCStatus(.unimplemented, "unknown service \(service)")
    }

    /// Every registered path (for logs and reflection-like listings).
    public var paths: [String] {
        table.withLockedValue { $0.routes.compactMap { $0.value.handler == nil ? nil : $0.key }.sorted() }
    }
}
