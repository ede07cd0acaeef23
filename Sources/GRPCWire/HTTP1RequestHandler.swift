import NIOCore
import NIOHTTP1

/// Answers plain HTTP/1.1 requests with the service the server was given.
///
/// The body is collected up to `maxBodyBytes` and handed over whole; a
/// larger one is read to its end without being kept and the service is told
/// its length (`HTTP1Request.oversizedBodyBytes`), as etcd's gateway answers
/// it with gRPC's size error on a connection that stays open. Past its first
/// `budget.freeBytesPerRequest` a body is buffered only while the server-wide
/// `budget` allows; one that does not fit is treated as oversized. A response is written
/// whole, or streamed with chunked encoding when it carries a `stream`
/// closure; the task producing it is cancelled when the connection closes.
/// NIO's pipelining assistance keeps requests on one connection in order.
final class HTTP1RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: HTTP1Service?
    private let maxBodyBytes: Int
    private let budget: HTTP1BodyBudget
    /// Bytes of `body` drawn from `budget` (given back when the body is handed over or dropped).
    private var reserved = 0
    /// The connection's identity, handed to every request (`HTTP1Request.identity`).
    private let identity: GRPCConnectionIdentity
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Length of a body over the limit, counted while it is dropped.
    private var oversizedBytes: Int?
    /// The task answering the current request (event loop only).
    private var inFlight: Task<Void, Never>?

    init(handler: HTTP1Service?, maxBodyBytes: Int, budget: HTTP1BodyBudget,
         identity: GRPCConnectionIdentity = GRPCConnectionIdentity()) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.budget = budget
        self.identity = identity
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            dropBody()
            oversizedBytes = nil
        case .body(let chunk):
            if let dropped = oversizedBytes {
                oversizedBytes = dropped.addingReportingOverflow(chunk.readableBytes).partialValue
            } else if body.count + chunk.readableBytes > maxBodyBytes || !reserve(for: body.count + chunk.readableBytes) {
                oversizedBytes = body.count + chunk.readableBytes
                dropBody()
            } else {
                body.append(contentsOf: chunk.readableBytesView)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let request = body
            dropBody()
            respond(context: context, head: head, body: request, oversizedBytes: oversizedBytes)
            oversizedBytes = nil
        }
    }

    /// Draws on the budget so that `reserved` covers a body of `length` bytes past the free part.
    private func reserve(for length: Int) -> Bool {
        let needed = max(0, length - budget.freeBytesPerRequest)
        guard needed > reserved else { return true }
        guard budget.reserve(needed - reserved) else { return false }
        reserved = needed
        return true
    }

    /// Forgets the buffered body and gives its share of the budget back.
    private func dropBody() {
        body = []
        budget.release(reserved)
        reserved = 0
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        dropBody()
    }

    func channelInactive(context: ChannelHandlerContext) {
        dropBody()
        inFlight?.cancel()
        inFlight = nil
        context.fireChannelInactive()
    }

    /// Parser errors (already answered 400 by NIO's error handler) and I/O errors end the connection.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8], oversizedBytes: Int?) {
        let uri = head.uri
        let path: String, query: String
        if let q = uri.firstIndex(of: "?") {
            path = String(uri[..<q])
            query = String(uri[uri.index(after: q)...])
        } else {
            path = uri
            query = ""
        }
        let keepAlive = head.isKeepAlive
        let version = head.version
        guard let handler else {
            write(context: context, .notFound, version: version, keepAlive: keepAlive)
            return
        }
        let request = HTTP1Request(method: head.method.rawValue, path: path, query: query,
                                   headers: head.headers.map { ($0.name, $0.value) }, body: body,
                                   oversizedBodyBytes: oversizedBytes, identity: identity)
        let loop = context.eventLoop
        let bound = NIOLoopBound(context, eventLoop: loop)
        inFlight = Task {
            let response = await handler(request)
            guard let stream = response.stream else {
                loop.execute { self.write(context: bound.value, response, version: version, keepAlive: keepAlive) }
                return
            }
            loop.execute { self.writeHead(context: bound.value, response, version: version, keepAlive: keepAlive, length: nil) }
            try? await stream(ChannelBodyWriter(context: bound, loop: loop))
            loop.execute {
                let context = bound.value
                guard context.channel.isActive else { return }
                let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
                if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
            }
        }
    }

    /// `length` nil: chunked.
    private func writeHead(context: ChannelHandlerContext, _ response: HTTP1Response, version: HTTPVersion,
                           keepAlive: Bool, length: Int?) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        headers.add(name: "Content-Type", value: response.contentType)
        if let length {
            headers.add(name: "Content-Length", value: String(length))
        } else {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
    }

    private func write(context: ChannelHandlerContext, _ response: HTTP1Response, version: HTTPVersion,
                       keepAlive: Bool) {
        guard context.channel.isActive else { return }
        writeHead(context: context, response, version: version, keepAlive: keepAlive, length: response.body.count)
        var body = context.channel.allocator.buffer(capacity: response.body.count)
        body.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
    }
}

/// Writes chunks of a streamed response on the connection's loop; each write waits until flushed.
private struct ChannelBodyWriter: HTTP1BodyWriter {
    let context: NIOLoopBound<ChannelHandlerContext>
    let loop: any EventLoop

    func write(_ bytes: [UInt8]) async throws {
        let context = self.context
        try await loop.flatSubmit { () -> EventLoopFuture<Void> in
            let ctx = context.value
            guard ctx.channel.isActive else { return ctx.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
            var buffer = ctx.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return ctx.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))))
        }.get()
    }
}
