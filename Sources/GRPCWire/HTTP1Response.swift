/// A plain HTTP/1.1 request on the gRPC port, body included (bounded by
/// `GRPCServerConfig.maxHTTP1BodyBytes`).
public struct HTTP1Request: Sendable {
    public var method: String
    /// The path without the query, e.g. "/v3/kv/range".
    public var path: String
    /// The raw query after "?", "" if none.
    public var query: String
    /// Header names as sent, in order.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The body's length when it was over the server's limit: it was read
    /// and dropped (`body` is empty), so the service answers as it would a
    /// message over its limit and the connection stays usable.
    public var oversizedBodyBytes: Int?
    /// Who the connection belongs to, as for a gRPC call's
    /// `GRPCRequestContext.identity` (the HTTP client's verified certificate
    /// under `--client-cert-auth`); empty on plain TCP.
    public var identity: GRPCConnectionIdentity

    public init(method: String, path: String, query: String = "", headers: [(String, String)] = [], body: [UInt8] = [],
                oversizedBodyBytes: Int? = nil, identity: GRPCConnectionIdentity = GRPCConnectionIdentity()) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.oversizedBodyBytes = oversizedBodyBytes
        self.identity = identity
    }

    /// The first value of a header, name compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }
}

/// The answer to a plain HTTP/1.1 request on the gRPC port (/version, /health, /metrics, JSON gateways).
public struct HTTP1Response: Sendable {
    public var status: Int
    public var contentType: String
    /// Further headers (Content-Type, Content-Length and Transfer-Encoding are set by the server).
    public var headers: [(String, String)] = []
    public var body: [UInt8]
    /// When set, the response is streamed (chunked transfer encoding) and `body`
    /// is ignored: the server calls `stream` with a writer and ends the response
    /// when it returns. The task running it is cancelled when the client goes away.
    public var stream: (@Sendable (HTTP1BodyWriter) async throws -> Void)?

    public init(status: Int, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int, contentType: String = "application/json", text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    /// A streamed (chunked) response.
    public init(status: Int, contentType: String = "application/json", headers: [(String, String)] = [],
                stream: @escaping @Sendable (HTTP1BodyWriter) async throws -> Void) {
        self.init(status: status, contentType: contentType, body: [])
        self.headers = headers
        self.stream = stream
    }

    public static let notFound = HTTP1Response(status: 404, contentType: "text/plain; charset=utf-8",
                                               text: "404 page not found\n")
}

/// Writes the chunks of a streamed HTTP/1.1 response. `write` returns once
/// the bytes are handed to the socket (so a slow reader slows the writer) and
/// throws once the connection is gone.
public protocol HTTP1BodyWriter: Sendable {
    func write(_ bytes: [UInt8]) async throws
}

/// Answers HTTP/1.1 requests: method ("GET"), path ("/version") and raw query ("" if none).
public typealias HTTP1Handler = @Sendable (_ method: String, _ path: String, _ query: String) async -> HTTP1Response

/// Answers HTTP/1.1 requests seeing the whole request (headers and body).
public typealias HTTP1Service = @Sendable (HTTP1Request) async -> HTTP1Response
