import NIOCore
import NIOHTTP1

/// Answers a request the HTTP/1.1 parser refused as Go's net/http does (the
/// server etcd's gateway runs in), then lets the connection close: "431
/// Request Header Fields Too Large" when the header block passes
/// `maxHeaderBytes`, "400 Bad Request" for anything else (e.g. the body of
/// a POST sent without Content-Length, which HTTP reads as the next
/// request). Go answers in plain text with `Connection: close`; NIO's own
/// handler sent an empty 400.
final class HTTP1ParseErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Go's http.DefaultMaxHeaderBytes (1 MiB) plus the 4096 bytes of slack
    /// its reader allows.
    static let maxHeaderBytes = (1 << 20) + 4096

    static var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeaderBytes
        limits.maxHeaderListSize = maxHeaderBytes
        return limits
    }

    private var responseInProgress = false

    /// Go's status line text for a parser error.
    static func goStatus(for error: HTTPParserError) -> (code: Int, text: String) {
        error == .headerOverflow ? (431, "431 Request Header Fields Too Large") : (400, "400 Bad Request")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        // Only between responses: a parse error mid-response just closes.
        if !responseInProgress {
            let (code, text) = Self.goStatus(for: parserError)
            let body = Array(text.utf8)
            let headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close"),
                                       ("Content-Length", String(body.count))])
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers)
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: responseInProgress = true
        case .end: responseInProgress = false
        default: break
        }
        context.write(data, promise: promise)
    }
}
