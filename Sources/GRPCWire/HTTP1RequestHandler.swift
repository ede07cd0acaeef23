import NIOCore
import NIOHTTP1

/// Answers plain HTTP/1.1 GETs (/version, /health, /metrics) with the
/// handler the server was given; request bodies are ignored.
final class HTTP1RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: HTTP1Handler?
    private var head: HTTPRequestHead?

    init(handler: HTTP1Handler?) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, head: head)
        }
    }

    /// Parser errors (already answered 400 by NIO's error handler) and I/O errors end the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let uri = head.uri
        let path: String, query: String
        if let q = uri.firstIndex(of: "?") {
            path = String(uri[..<q])
            query = String(uri[uri.index(after: q)...])
        } else {
            path = uri
            query = ""
        }
        let method = head.method.rawValue
        let keepAlive = head.isKeepAlive
        let version = head.version
        guard let handler else {
            write(context: context, .notFound, version: version, keepAlive: keepAlive)
            return
        }
        let loop = context.eventLoop
        let bound = NIOLoopBound(context, eventLoop: loop)
        Task {
            let response = await handler(method, path, query)
            loop.execute { self.write(context: bound.value, response, version: version, keepAlive: keepAlive) }
        }
    }

    private func write(context: ChannelHandlerContext, _ response: HTTP1Response, version: HTTPVersion,
                       keepAlive: Bool) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var body = context.channel.allocator.buffer(capacity: response.body.count)
        body.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
    }
}
