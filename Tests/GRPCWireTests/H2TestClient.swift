import CNGHTTP2
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import GRPCWire

/// What a test call got back.
struct TestResponse: Sendable {
    var headers: [(String, String)] = []
    var trailers: [(String, String)] = []
    var body: [UInt8] = []
    /// RST_STREAM / close error code, 0 when the stream ended normally.
    var errorCode: UInt32 = 0
    /// The client's socket read (`H2TestClient.reads`) that brought the first response header.
    var headersRead: Int?

    func field(_ name: String) -> String? {
        (trailers + headers).first { $0.0 == name }?.1
    }
    /// grpc-status from the trailers (or the trailers-only headers).
    var grpcStatus: Int? { field("grpc-status").flatMap { Int($0) } }
    var grpcMessage: String? { field("grpc-message").map { GRPCStatus.percentDecode($0) } }
    var httpStatus: Int? { headers.first { $0.0 == ":status" }.flatMap { Int($0.1) } }

    /// The length-prefixed messages of the body.
    var messages: [[UInt8]] {
        var d = GRPCMessageDeframer(maxMessageBytes: Int.max)
        d.append(body)
        var out: [[UInt8]] = []
        while let m = try? d.next() { out.append(m) }
        return out
    }
}

func framed(_ messages: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    for m in messages { GRPCMessageDeframer.frame(m, into: &out) }
    return out
}

/// An HTTP/2 client built on an nghttp2 client session over a NIO socket,
/// for tests. All session work happens on the channel's event loop.
final class H2TestClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    final class PendingStream {
        var response = TestResponse()
        var requestBody: [UInt8] = []
        var requestIndex = 0
        var endRequest = true
        let promise: EventLoopPromise<TestResponse>
        init(promise: EventLoopPromise<TestResponse>) { self.promise = promise }
    }

    var session: OpaquePointer?
    var channel: (any Channel)!
    var context: ChannelHandlerContext?
    var streams: [Int32: PendingStream] = [:]
    var goAwayErrorCode: UInt32?
    var goAwayDebug = ""
    var pingAcks = 0
    /// Socket reads so far, and the read that brought each PING ACK: which
    /// frames the server wrote together.
    var reads = 0
    var pingAckReads: [Int] = []
    let closedPromise: EventLoopPromise<Void>
    var readBytes = 0

    init(loop: EventLoop) {
        closedPromise = loop.makePromise()
    }

    static func connect(port: Int, group: any EventLoopGroup, windowBytes: Int32 = 1 << 20,
                        autoRead: Bool = true) async throws -> H2TestClient {
        let loop = group.next()
        let client = H2TestClient(loop: loop)
        var bootstrap = ClientBootstrap(group: loop).channelOption(.autoRead, value: autoRead)
        if !autoRead {
            // A fixed small receive buffer (no autotuning) for a client that is not going to read.
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: 64 * 1024)
        }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(client) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        try await loop.submit {
            client.channel = channel
            client.startSession(windowBytes: windowBytes)
        }.get()
        return client
    }

    private func startSession(windowBytes: Int32) {
        var s: OpaquePointer?
        precondition(cng_session_new(&s, 0, clientCallbacks, Unmanaged.passUnretained(self).toOpaque(), nil) == 0)
        session = s
        var iv = [nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                         value: UInt32(windowBytes))]
        _ = nghttp2_submit_settings(s, UInt8(NGHTTP2_FLAG_NONE.rawValue), &iv, 1)
        _ = nghttp2_session_set_local_window_size(s, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, windowBytes)
        flush()
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        readBytes += buffer.readableBytes
        reads += 1
        guard let session else { return }
        let rv = buffer.withUnsafeReadableBytes {
            cng_session_mem_recv(session, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.count)
        }
        if rv < 0 { context.close(promise: nil) }
        flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for s in streams.values {
            var r = s.response
            if r.errorCode == 0 && r.grpcStatus == nil { r.errorCode = UInt32.max }
            s.promise.succeed(r)
        }
        streams.removeAll()
        closedPromise.succeed(())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func flush() {
        guard let session, let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 0)
        while true {
            var p: UnsafePointer<UInt8>?
            let n = cng_session_mem_send(session, &p)
            if n <= 0 { break }
            buffer.writeBytes(UnsafeRawBufferPointer(start: p, count: n))
        }
        if buffer.readableBytes > 0 { context.writeAndFlush(NIOAny(buffer), promise: nil) }
    }

    // MARK: API

    /// One call: request headers + body; `endRequest` false leaves the request open.
    func call(_ path: String, body: [UInt8], headers: [(String, String)] = [],
              contentType: String = "application/grpc", method: String = "POST",
              endRequest: Bool = true) async throws -> TestResponse {
        try await start(path, body: body, headers: headers, contentType: contentType, method: method,
                        endRequest: endRequest).get()
    }

    func unary(_ path: String, _ message: [UInt8], headers: [(String, String)] = []) async throws -> TestResponse {
        try await call(path, body: framed([message]), headers: headers)
    }

    func start(_ path: String, body: [UInt8], headers: [(String, String)] = [],
               contentType: String = "application/grpc", method: String = "POST",
               endRequest: Bool = true) -> EventLoopFuture<TestResponse> {
        let loop = channel.eventLoop
        return loop.flatSubmit {
            let promise = loop.makePromise(of: TestResponse.self)
            let pending = PendingStream(promise: promise)
            pending.requestBody = body
            pending.endRequest = endRequest
            var fields = [(":method", method), (":scheme", "http"), (":path", path),
                          (":authority", "127.0.0.1"), ("content-type", contentType), ("te", "trailers")]
            fields.append(contentsOf: headers)
            let id = HeaderBlock.with(fields) { cng_submit_request(self.session, $0, $1, clientRead) }
            guard id > 0 else {
                promise.fail(GRPCStatus(.internal, "submit failed \(id)"))
                return promise.futureResult
            }
            self.streams[id] = pending
            self.flush()
            return promise.futureResult
        }
    }

    /// Raw bytes straight to the socket (hostile tests).
    func writeRaw(_ bytes: [UInt8]) async throws {
        let loop = channel.eventLoop
        try await loop.flatSubmit {
            var b = self.channel.allocator.buffer(capacity: bytes.count)
            b.writeBytes(bytes)
            return self.channel.writeAndFlush(b)
        }.get()
    }

    func submitPings(_ count: Int) async throws {
        try await channel.eventLoop.submit {
            for _ in 0..<count { _ = nghttp2_submit_ping(self.session, 0, nil) }
            self.flush()
        }.get()
    }

    /// A PING and then a call's request, in one write.
    func startAfterPing(_ path: String, body: [UInt8]) -> EventLoopFuture<TestResponse> {
        channel.eventLoop.flatSubmit {
            _ = nghttp2_submit_ping(self.session, 0, nil)  // leaves with the request (start flushes)
            return self.start(path, body: body)
        }
    }

    func close() async {
        try? await channel.close()
        try? await channel.eventLoop.submit {
            if let s = self.session { nghttp2_session_del(s); self.session = nil }
        }.get()
    }

    var isActive: Bool { channel.isActive }
}

private func client(_ userData: UnsafeMutableRawPointer?) -> H2TestClient {
    Unmanaged<H2TestClient>.fromOpaque(userData!).takeUnretainedValue()
}

private func clientRead(_ session: OpaquePointer?, _ streamID: Int32, _ buf: UnsafeMutablePointer<UInt8>?,
                        _ length: Int, _ flags: UnsafeMutablePointer<UInt32>?,
                        _ userData: UnsafeMutableRawPointer?) -> cng_ssize {
    guard let s = client(userData).streams[streamID] else { return cng_ssize(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
    let n = min(length, s.requestBody.count - s.requestIndex)
    s.requestBody.withUnsafeBufferPointer { buf!.update(from: $0.baseAddress! + s.requestIndex, count: n) }
    s.requestIndex += n
    if s.requestIndex == s.requestBody.count {
        if s.endRequest {
            flags!.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
        } else if n == 0 {
            return cng_ssize(NGHTTP2_ERR_DEFERRED.rawValue)
        }
    }
    return n
}

nonisolated(unsafe) private let clientCallbacks: OpaquePointer = {
    var cbs: OpaquePointer?
    nghttp2_session_callbacks_new(&cbs)
    nghttp2_session_callbacks_set_on_header_callback(cbs) { _, frame, name, nlen, value, vlen, _, ud in
        let c = client(ud)
        guard let frame, let s = c.streams[frame.pointee.hd.stream_id] else { return 0 }
        let pair = (String(decoding: UnsafeBufferPointer(start: name, count: nlen), as: UTF8.self),
                    String(decoding: UnsafeBufferPointer(start: value, count: vlen), as: UTF8.self))
        if s.response.headersRead == nil { s.response.headersRead = c.reads }
        if frame.pointee.headers.cat == NGHTTP2_HCAT_HEADERS && !s.response.headers.isEmpty {
            s.response.trailers.append(pair)
        } else {
            s.response.headers.append(pair)
        }
        return 0
    }
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs) { _, _, id, data, len, ud in
        client(ud).streams[id]?.response.body.append(contentsOf: UnsafeBufferPointer(start: data, count: len))
        return 0
    }
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs) { _, id, code, ud in
        let c = client(ud)
        if let s = c.streams.removeValue(forKey: id) {
            s.response.errorCode = code
            s.promise.succeed(s.response)
        }
        return 0
    }
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs) { _, frame, ud in
        guard let frame else { return 0 }
        let c = client(ud)
        if frame.pointee.hd.type == UInt8(NGHTTP2_PING.rawValue), frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0 {
            c.pingAcks += 1
            c.pingAckReads.append(c.reads)
        }
        guard frame.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) else { return 0 }
        c.goAwayErrorCode = frame.pointee.goaway.error_code
        if let d = frame.pointee.goaway.opaque_data {
            c.goAwayDebug = String(decoding: UnsafeBufferPointer(start: d, count: frame.pointee.goaway.opaque_data_len), as: UTF8.self)
        }
        return 0
    }
    return cbs!
}()
