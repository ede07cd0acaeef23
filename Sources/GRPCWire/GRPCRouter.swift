import NIOConcurrencyHelpers

/// Maps a gRPC method path ("/package.Service/Method") to its handler.
/// Register before `GRPCServer.start()`; lookups are lock-protected so late
/// registration is safe but rarely useful.
public final class GRPCRouter: Sendable {
    public typealias Unary = @Sendable ([UInt8], GRPCRequestContext) async throws -> [UInt8]
    public typealias ServerStreaming = @Sendable ([UInt8], GRPCRequestContext, GRPCResponseWriter) async throws -> Void
    public typealias Bidi = @Sendable (GRPCRequestStream, GRPCResponseWriter, GRPCRequestContext) async throws -> Void

    /// A registered method; the kind decides when the handler starts
    /// (unary and server-streaming after the one request message, bidi at once).
    public enum Handler: Sendable {
        case unary(Unary)
        case serverStreaming(ServerStreaming)
        case bidi(Bidi)
    }

    private struct Table {
        var methods: [String: Handler] = [:]
        /// "/package.Service/" prefixes, to tell an unknown service from an unknown method.
        var services: Set<String> = []
        /// Metrics hooks by path (see `GRPCMethodProbe`).
        var probes: [String: any GRPCMethodProbe] = [:]

        mutating func add(_ path: String, _ handler: Handler) {
            methods[path] = handler
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

    /// Attaches metrics hooks to a registered path; call before `start()`.
    public func setProbe(_ probe: any GRPCMethodProbe, for path: String) {
        table.withLockedValue { $0.probes[path] = probe }
    }

    /// The handler and probe for `path` in one lookup (the per-call path).
    func routeWithProbe(_ path: String) -> (Result<Handler, GRPCStatus>, (any GRPCMethodProbe)?) {
        table.withLockedValue { table in
            if let handler = table.methods[path] { return (.success(handler), table.probes[path]) }
            return (Self.unimplemented(path, table), nil)
        }
    }

    public func handler(for path: String) -> Handler? {
        table.withLockedValue { $0.methods[path] }
    }

    /// The handler for `path`, or the UNIMPLEMENTED status grpc-go sends for it.
    func route(_ path: String) -> Result<Handler, GRPCStatus> {
        table.withLockedValue { table in
            if let handler = table.methods[path] { return .success(handler) }
            return Self.unimplemented(path, table)
        }
    }

    private static func unimplemented(_ path: String, _ table: Table) -> Result<Handler, GRPCStatus> {
        // "/pkg.Service/Method" → service "pkg.Service", method "Method".
        let trimmed = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        guard let slash = trimmed.lastIndex(of: "/") else {
            // grpc-go (etcd 3.5) answers a path without a slash with RESOURCE_EXHAUSTED, oddly.
            return .failure(GRPCStatus(.resourceExhausted, "malformed method name: \"\(path)\""))
        }
        let service = trimmed[..<slash], method = trimmed[trimmed.index(after: slash)...]
        if table.services.contains("/\(service)/") {
            return .failure(GRPCStatus(.unimplemented, "unknown method \(method) for service \(service)"))
        }
        return .failure(GRPCStatus(.unimplemented, "unknown service \(service)"))
    }

    /// Every registered path (for logs and reflection-like listings).
    public var paths: [String] { table.withLockedValue { Array($0.methods.keys).sorted() } }
}
