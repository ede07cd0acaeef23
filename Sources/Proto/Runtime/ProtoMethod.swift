/// How a gRPC method streams messages.
public enum ProtoStreamingKind: Sendable, Hashable {
    case unary
    /// One request, a stream of responses (Watch-like reads: Snapshot, Observe).
    case serverStreaming
    case clientStreaming
    /// Both sides stream (Watch, LeaseKeepAlive).
    case bidirectional
}

/// One RPC of a service, without its static types: what a server registers
/// handlers from. `path` is the HTTP/2 `:path`, e.g. `/etcdserverpb.KV/Range`.
public struct ProtoMethodDescriptor: Sendable {
    /// Fully qualified service name, e.g. `etcdserverpb.KV`.
    public let service: String
    /// Method name, e.g. `Range`.
    public let name: String
    public let kind: ProtoStreamingKind
    public let requestType: any ProtoMessage.Type
    public let responseType: any ProtoMessage.Type

    public var path: String { "/\(service)/\(name)" }

    public init(service: String, name: String, kind: ProtoStreamingKind,
                requestType: any ProtoMessage.Type, responseType: any ProtoMessage.Type) {
        self.service = service
        self.name = name
        self.kind = kind
        self.requestType = requestType
        self.responseType = responseType
    }
}

/// One RPC with its request and response types, e.g. `Etcdserverpb.KVService.range`.
public struct ProtoMethod<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    public let descriptor: ProtoMethodDescriptor

    public init(service: String, name: String, kind: ProtoStreamingKind) {
        descriptor = ProtoMethodDescriptor(
            service: service, name: name, kind: kind,
            requestType: Request.self, responseType: Response.self)
    }

    public var path: String { descriptor.path }
    public var kind: ProtoStreamingKind { descriptor.kind }
}

/// A service and its methods, in declaration order.
public struct ProtoServiceDescriptor: Sendable {
    /// Fully qualified service name, e.g. `etcdserverpb.KV`.
    public let name: String
    public let methods: [ProtoMethodDescriptor]

    public init(name: String, methods: [ProtoMethodDescriptor]) {
        self.name = name
        self.methods = methods
    }
}
