import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import GRPCWire

/// HTTP/1.1 requests with bodies and streamed (chunked) answers, and calling
/// router handlers outside HTTP/2 (what a JSON gateway does).
@Suite struct HTTP1BodyTests {
    /// A server whose HTTP/1.1 service echoes POST bodies, streams on /stream, and calls the test router's Bidi.
    func withBodyServer(maxBodyBytes: Int, budget: HTTP1BodyBudget? = nil,
                        configure: (inout GRPCServerConfig) -> Void = { _ in },
                        _ body: (_ port: Int, _ group: any EventLoopGroup) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var config = GRPCServerConfig(host: "127.0.0.1", port: 0)
        config.maxHTTP1BodyBytes = maxBodyBytes
        config.http1BodyBudget = budget
        configure(&config)
        let router = makeTestRouter()
        let server = GRPCServer(config: config, router: router, http1Service: { request in
            switch request.path {
            case "/stream":
                var response = HTTP1Response(status: 200, contentType: "text/plain", headers: [("X-Kind", "stream")]) { out in
                    for i in 0..<3 { try await out.write(Array("line \(i)\n".utf8)) }
                }
                response.headers.append(("X-Extra", "1"))
                return response
            case "/forever":
                // Writes until the client goes away; records how it ended.
                return HTTP1Response(status: 200, contentType: "text/plain") { out in
                    do {
                        while true {
                            try await out.write(Array("tick\n".utf8))
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    } catch {
                        foreverEnded.withLockedValue { $0 = true }
                        throw error
                    }
                }
            case "/bidi":
                // The router's Bidi echo, fed from the body and answering through a closure writer.
                guard case .bidi(let call)? = router.handler(for: "/test.Echo/Bidi") else { return .notFound }
                let (requests, input) = AsyncThrowingStream.makeStream(of: [UInt8].self)
                for part in request.body.split(separator: UInt8(ascii: ",")) { input.yield(Array(part)) }
                input.finish()
                let collected = Collected()
                try? await call(GRPCRequestStream(requests), GRPCResponseWriter { collected.append($0) },
                                GRPCRequestContext(headers: [], path: "/test.Echo/Bidi"))
                return HTTP1Response(status: 200, contentType: "text/plain", body: collected.joined())
            default:
                return HTTP1Response(status: 200, contentType: "text/plain",
                                     text: "\(request.method) \(request.header("x-test") ?? "-") \(String(decoding: request.body, as: UTF8.self))"
                                        + (request.oversizedBodyBytes.map { " oversized=\($0)" } ?? ""))
            }
        }, group: group, logger: Logger(label: "http1-body-test"))
        let port = try await server.start()
        do {
            try await body(port, group)
        } catch {
            try? await server.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        try await server.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func postBodyReachesTheService() async throws {
        try await withBodyServer(maxBodyBytes: 1024) { port, group in
            let request = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world"
            let text = String(decoding: try await rawExchange(port: port, group: group, Array(request.utf8)).bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"), "\(text)")
            #expect(text.hasSuffix("\r\n\r\nPOST yes hello world"), "\(text)")
            // A chunked request body is put together.
            let chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            let text2 = String(decoding: try await rawExchange(port: port, group: group, Array(chunked.utf8)).bytes, as: UTF8.self)
            #expect(text2.hasSuffix("POST - abcde"), "\(text2)")
        }
    }

    /// etcd's gateway reads any body and answers gRPC's size error on a
    /// connection that stays open: the service is told the dropped length.
    @Test func bodyOverTheLimitIsDroppedAndCounted() async throws {
        try await withBodyServer(maxBodyBytes: 100) { port, group in
            let payload = String(repeating: "x", count: 101)
            let request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n\(payload)"
                + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            let answer = try await rawExchange(port: port, group: group, Array(request.utf8))
            let text = String(decoding: answer.bytes, as: UTF8.self)
            #expect(text.contains("POST -  oversized=101"), "\(text)")
            #expect(text.hasSuffix("POST - ok"), "\(text)")  // the same connection went on
        }
    }

    /// Slow or never-ending bodies on many connections: past each body's free
    /// part they share one budget; a body that does not fit is answered as
    /// oversized while small requests still go through, and a closed
    /// connection gives its share back.
    @Test func bodiesShareOneBudget() async throws {
        let budget = HTTP1BodyBudget(totalBytes: 1000, freeBytesPerRequest: 100)
        try await withBodyServer(maxBodyBytes: 2000, budget: budget) { port, group in
            let holder = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
            let partial = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "h", count: 1050)
            try await holder.writeAndFlush(holder.allocator.buffer(string: partial)).get()
            // The holder's body is buffered and counted (a hang bound, not a timing check).
            for _ in 0..<600 where budget.bytesInUse < 950 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(budget.bytesInUse == 950)

            func post(_ length: Int) async throws -> String {
                let request = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n"
                    + String(repeating: "b", count: length)
                return String(decoding: try await rawExchange(port: port, group: group, Array(request.utf8)).bytes, as: UTF8.self)
            }
            #expect(try await post(300).contains("oversized=300"))  // 200 counted bytes do not fit beside 950
            #expect(try await post(100).hasSuffix("POST - " + String(repeating: "b", count: 100)))  // free part
            #expect(budget.bytesInUse == 950)

            try await holder.close()
            for _ in 0..<600 where budget.bytesInUse > 0 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(budget.bytesInUse == 0)
            #expect(try await post(300).hasSuffix("POST - " + String(repeating: "b", count: 300)))
            #expect(budget.bytesInUse == 0)
        }
    }

    /// A client that never finishes the HTTP/2 preface (a byte every few
    /// seconds holds a descriptor for ever otherwise) is closed once
    /// `prefaceTimeout` passes, with nothing written.
    @Test func unfinishedPrefaceIsClosed() async throws {
        try await withBodyServer(maxBodyBytes: 100, configure: { $0.prefaceTimeout = .milliseconds(500) }) { port, group in
            let answer = try await rawExchange(port: port, group: group, Array("PRI * HTTP/2".utf8))
            #expect(answer.closedByServer)
            #expect(answer.bytes.isEmpty)
        }
    }

    /// Parser errors answered as Go's net/http: 431 past 1 MiB of headers
    /// (NIO alone stopped at 80 KiB with an empty 400), 400 otherwise.
    @Test func parseErrorsAnsweredAsGo() async throws {
        try await withBodyServer(maxBodyBytes: 100) { port, group in
            let big = String(repeating: "a", count: 200_000)
            let fine = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            let a = String(decoding: try await rawExchange(port: port, group: group, Array(fine.utf8)).bytes, as: UTF8.self)
            #expect(a.hasPrefix("HTTP/1.1 200 OK") && a.hasSuffix("POST - ok"), "\(a.prefix(200))")
            let huge = String(repeating: "a", count: 1_100_000)
            let tooBig = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Big: \(huge)\r\n\r\n"
            let b = try await rawExchange(port: port, group: group, Array(tooBig.utf8))
            let bText = String(decoding: b.bytes, as: UTF8.self)
            #expect(bText.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large"), "\(bText.prefix(200))")
            #expect(bText.hasSuffix("\r\n\r\n431 Request Header Fields Too Large") && b.closedByServer)
            // A body sent without Content-Length is the next "request" (etcd too).
            let noLength = "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n{\"key\":\"YQ==\"}\r\n\r\n"
            let c = try await rawExchange(port: port, group: group, Array(noLength.utf8))
            let cText = String(decoding: c.bytes, as: UTF8.self)
            #expect(cText.hasPrefix("HTTP/1.1 200 OK"), "\(cText)")
            #expect(cText.contains("HTTP/1.1 400 Bad Request") && cText.hasSuffix("\r\n\r\n400 Bad Request"), "\(cText)")
            #expect(cText.contains("text/plain; charset=utf-8") && c.closedByServer)
        }
    }

    @Test func streamedResponseIsChunked() async throws {
        try await withBodyServer(maxBodyBytes: 1024) { port, group in
            let request = "POST /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let text = String(decoding: try await rawExchange(port: port, group: group, Array(request.utf8)).bytes, as: UTF8.self)
            #expect(text.lowercased().contains("transfer-encoding: chunked"), "\(text)")
            #expect(text.contains("X-Kind: stream") && text.contains("X-Extra: 1"), "\(text)")
            #expect(text.hasSuffix("\r\n\r\n7\r\nline 0\n\r\n7\r\nline 1\n\r\n7\r\nline 2\n\r\n0\r\n\r\n"), "\(text)")
        }
    }

    @Test func streamEndsWhenTheClientGoesAway() async throws {
        try await withBodyServer(maxBodyBytes: 1024) { port, group in
            let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeString("POST /forever HTTP/1.1\r\nHost: x\r\n\r\n")
            try await channel.writeAndFlush(buffer).get()
            try await Task.sleep(for: .milliseconds(200))
            try await channel.close()
            // The producer must stop (its write fails or its task is cancelled); wait for it, bounded.
            for _ in 0..<500 where !foreverEnded.withLockedValue({ $0 }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(foreverEnded.withLockedValue { $0 })
        }
    }

    @Test func routerHandlersRunWithClosureBackedStreams() async throws {
        try await withBodyServer(maxBodyBytes: 1024) { port, group in
            let request = "POST /bidi HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\na,b,c"
            let text = String(decoding: try await rawExchange(port: port, group: group, Array(request.utf8)).bytes, as: UTF8.self)
            #expect(text.hasSuffix("\r\n\r\nabc"), "\(text)")
        }
    }
}

private let foreverEnded = NIOLockedValueBox(false)

private final class Collected: @unchecked Sendable {
    private var parts: [[UInt8]] = []
    func append(_ part: [UInt8]) { parts.append(part) }
    func joined() -> [UInt8] { parts.flatMap { $0 } }
}
