/// The answer to a plain HTTP/1.1 request on the gRPC port (/version, /health, /metrics).
public struct HTTP1Response: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int, contentType: String = "application/json", text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    public static let notFound = HTTP1Response(status: 404, contentType: "text/plain; charset=utf-8",
                                               text: "404 page not found\n")
}

/// Answers HTTP/1.1 requests: method ("GET"), path ("/version") and raw query ("" if none).
public typealias HTTP1Handler = @Sendable (_ method: String, _ path: String, _ query: String) async -> HTTP1Response
