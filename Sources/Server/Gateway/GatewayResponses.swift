import GRPCWire
import Proto

/// The HTTP answers of etcd's grpc-gateway (v1): headers it always sends,
/// the gRPC code → HTTP status mapping and the error bodies.
enum GatewayResponses {
    /// Sent on every gateway answer (etcd wraps its gateway in a CORS handler).
    static let corsHeaders: [(String, String)] = [
        ("Access-Control-Allow-Headers", "accept, content-type, authorization"),
        ("Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE"),
        ("Access-Control-Allow-Origin", "*"),
    ]
    /// Success answers also carry the gRPC response header grpc-gateway forwards.
    static let successHeaders = corsHeaders + [("Grpc-Metadata-Content-Type", "application/grpc")]

    /// grpc-gateway's HTTPStatusFromCode.
    static func httpStatus(_ code: GRPCStatus.Code) -> Int {
        switch code {
        case .ok: return 200
        case .cancelled: return 408
        case .unknown: return 500
        case .invalidArgument: return 400
        case .deadlineExceeded: return 504
        case .notFound: return 404
        case .alreadyExists: return 409
        case .permissionDenied: return 403
        case .unauthenticated: return 401
        case .resourceExhausted: return 429
        case .failedPrecondition: return 400
        case .aborted: return 409
        case .outOfRange: return 400
        case .unimplemented: return 501
        case .internal: return 500
        case .unavailable: return 503
        case .dataLoss: return 500
        }
    }

    /// Go's http.StatusText for the statuses above.
    static func statusText(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return ""
        }
    }

    /// A unary error: `{"error":msg,"code":N,"message":msg}` with the mapped status.
    static func error(_ status: GRPCStatus) -> HTTP1Response {
        var w = JSONWriter()
        w.beginObject()
        w.key("error"); w.value(status.message)
        w.key("code"); w.value(Int32(status.code.rawValue))
        w.key("message"); w.value(status.message)
        w.endObject()
        var response = HTTP1Response(status: httpStatus(status.code), body: w.bytes)
        response.headers = corsHeaders
        return response
    }

    /// The chunk a stream ends with on error:
    /// `{"error":{"grpc_code":N,"http_code":H,"message":msg,"http_status":text}}`.
    static func streamErrorChunk(_ status: GRPCStatus) -> [UInt8] {
        let http = httpStatus(status.code)
        var w = JSONWriter()
        w.beginObject()
        w.key("error")
        w.beginObject()
        w.field("grpc_code", Int32(status.code.rawValue))
        w.field("http_code", Int32(http))
        w.field("message", status.message)
        w.field("http_status", statusText(http))
        w.endObject()
        w.endObject()
        return w.bytes + [UInt8(ascii: "\n")]
    }

    /// One streamed message: `{"result":<message>}` and a newline.
    static func resultChunk(_ messageJSON: [UInt8]) -> [UInt8] {
        Array("{\"result\":".utf8) + messageJSON + Array("}\n".utf8)
    }

    static func text(_ status: Int, _ body: String) -> HTTP1Response {
        var response = HTTP1Response(status: status, contentType: "text/plain; charset=utf-8", text: body)
        response.headers = corsHeaders + [("X-Content-Type-Options", "nosniff")]
        return response
    }
}
