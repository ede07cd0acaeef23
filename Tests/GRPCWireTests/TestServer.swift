import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import GRPCWire

struct TestError: Error, CustomStringConvertible {
    var description: String { "custom failure" }
}

/// Counts messages a handler managed to send (never-reading client test).
let floodSent = NIOLockedValueBox<[String: Int]>([:])

/// /test.Echo/Callback calls whose end ran their cancel hook.
let callbackCancels = NIOLockedValueBox(0)

/// /test.Echo/Pause calls whose pause ended by cancellation.
let pauseCancels = NIOLockedValueBox(0)

/// Calls of /test.Echo/Gate that have reached their handler.
let gateStarted = NIOLockedValueBox(0)

func makeTestRouter() -> GRPCRouter {
    let router = GRPCRouter()
    router.unary("/test.Echo/Unary") { request, _ in request }
    router.unary("/test.Echo/Header") { _, context in Array((context.header("Authorization") ?? "-").utf8) }
    router.unary("/test.Echo/CommonName") { _, context in Array((context.verifiedClientCertCommonName ?? "-").utf8) }
    router.unary("/test.Echo/Sleep") { _, _ in
        try await Task.sleep(for: .seconds(30))
        return []
    }
    router.unary("/test.Echo/Slow") { request, _ in
        try await Task.sleep(for: .milliseconds(300))
        return request
    }
    router.unary("/test.Echo/Gate") { request, _ in
        gateStarted.withLockedValue { $0 += 1 }
        try await Task.sleep(for: .milliseconds(300))
        return request
    }
    router.unary("/test.Echo/Deadline") { request, _ in
        try GRPCRequestContext.checkDeadline()  // as a proposal does
        return request
    }
    // Answered on the loop when the request starts with 1 (marked 1), by the
    // async handler when it starts with 0 (marked 0); 2 fails inline.
    router.unary("/test.Echo/Inline") { request, _ in [0] + request }
    router.unaryInline("/test.Echo/Inline") { request, _ in
        switch request.first {
        case 1: return [UInt8](repeating: 0, count: GRPCUnaryReply.headroom) + [1] + request
        case 2: throw GRPCStatus(.outOfRange, "inline refused")
        default: return nil
        }
    }
    // Callback form: 1 taken and answered later from another thread (marked
    // 1); 0 left to the async handler (marked 0); 2 fails at once; 3 taken
    // and never answered until the call ends first (`callbackCancels`).
    router.unary("/test.Echo/Callback") { request, _ in [0] + request }
    router.unaryCallback("/test.Echo/Callback") { request, _, reply in
        switch request.first {
        case 1:
            Thread.detachNewThread {
                Thread.sleep(forTimeInterval: 0.05)
                reply.answer { [1] + request }
            }
            return true
        case 2: throw GRPCStatus(.outOfRange, "callback refused")
        case 3:
            reply.onCancel = {
                callbackCancels.withLockedValue { $0 += 1 }
                reply.answer { throw CancellationError() }
            }
            return true
        default: return false
        }
    }
    router.unary("/test.Echo/Fail") { _, _ in throw GRPCStatus(.notFound, "nope: 100%\nsure") }
    router.unary("/test.Echo/Custom") { _, _ in throw TestError() }
    router.serverStreaming("/test.Echo/Stream") { request, _, writer in
        for i in 0..<Int(request.first ?? 0) { try await writer.send([UInt8(i)]) }
    }
    router.serverStreaming("/test.Echo/Flood") { request, _, writer in
        let key = String(decoding: request, as: UTF8.self)
        let chunk = [UInt8](repeating: 7, count: 16 * 1024)
        for _ in 0..<4096 {
            try await writer.send(chunk)
            floodSent.withLockedValue { $0[key, default: 0] += 1 }
        }
    }
    // Sends [1], pauses on the loop (20 ms; 30 s when the request is [1]), sends [2].
    router.serverStreaming("/test.Echo/Pause") { request, _, writer in
        try await writer.send([1])
        do {
            try await writer.pause(nanoseconds: request.first == 1 ? 30_000_000_000 : 20_000_000)
        } catch {
            pauseCancels.withLockedValue { $0 += 1 }
            throw error
        }
        try await writer.send([2])
    }
    router.bidi("/test.Echo/Bidi") { requests, writer, _ in
        for try await message in requests { try await writer.send(message) }
    }
    // Per message: answered on the loop (marked 1) when it starts with 1 and
    // the handler waits, else by the handler (marked 0); 2 fails inline and
    // so goes to the handler too.
    router.bidi("/test.Echo/BidiInline") { requests, writer, _ in
        for try await message in requests { try await writer.send([0] + message) }
    }
    router.bidiInline("/test.Echo/BidiInline") { message, _ in
        switch message.first {
        case 1: return [1] + message
        case 2: throw GRPCStatus(.outOfRange, "inline refused")
        default: return nil
        }
    }
    return router
}

/// Runs `body` against a fresh server on a free port.
func withTestServer(_ configure: (inout GRPCServerConfig) -> Void = { _ in },
                    _ body: (_ port: Int, _ group: any EventLoopGroup, _ server: GRPCServer) async throws -> Void) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    var config = GRPCServerConfig(host: "127.0.0.1", port: 0)
    // Not the process-wide budgets other suites use.
    config.responseBudget = ByteBudget(totalBytes: 128 << 20)
    config.requestBudget = ByteBudget(totalBytes: 256 << 20)
    configure(&config)
    var logger = Logger(label: "grpc-wire-test")
    logger.logLevel = .warning
    let server = GRPCServer(config: config, router: makeTestRouter(), http1: { method, path, query in
        switch path {
        case "/version": HTTP1Response(status: 200, text: "{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}")
        case "/echo": HTTP1Response(status: 200, contentType: "text/plain", text: "\(method) \(query)")
        default: .notFound
        }
    }, group: group, logger: logger)
    let port = try await server.start()
    do {
        try await body(port, group, server)
    } catch {
        try? await server.shutdown()
        try? await group.shutdownGracefully()
        throw error
    }
    try await server.shutdown()
    try await group.shutdownGracefully()
}

/// Sends raw bytes on a plain TCP connection and returns everything read
/// until the server closes (or 60 s pass: `closedByServer` false).
///
/// The 60 s are a hang guard, not a deadline: every test here expects the
/// server to close. The server answers HTTP/1.1 from a task on Swift's
/// cooperative pool (two threads on a 2-core machine), which the other
/// suites running in the same test process can keep busy for seconds under
/// load; a 5 s guard cut a streamed answer short then
/// (`HTTP1BodyTests.streamedResponseIsChunked` saw no final chunk).
func rawExchange(port: Int, group: any EventLoopGroup, _ bytes: [UInt8]) async throws -> (bytes: [UInt8], closedByServer: Bool) {
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        }
    }
    let collector = Collector()
    let channel = try await ClientBootstrap(group: group)
        .channelInitializer { ch in ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(collector) } }
        .connect(host: "127.0.0.1", port: port).get()
    var buffer = channel.allocator.buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    // A server that closes early (a short preface timeout on a loaded
    // machine) may do so before these bytes go out: the write then fails, and
    // what counts is what came back and who closed.
    try? await channel.writeAndFlush(buffer).get()
    let timedOut = NIOLockedValueBox(false)
    let closer = channel.eventLoop.scheduleTask(in: .seconds(60)) {
        timedOut.withLockedValue { $0 = true }
        channel.close(promise: nil)
    }
    try? await channel.closeFuture.get()
    closer.cancel()
    let bytes = try await channel.eventLoop.submit { collector.bytes }.get()
    return (bytes, !timedOut.withLockedValue { $0 })
}

/// An HTTP/2 frame header + payload.
func h2Frame(type: UInt8, flags: UInt8 = 0, stream: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
    let n = payload.count
    return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
            UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
}

let h2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + h2Frame(type: 4, stream: 0)
