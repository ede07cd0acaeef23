import NIOCore
import NIOPosix
import Testing
@testable import GRPCWire

/// gRPC over real sockets with an in-process nghttp2 client.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ServerTests {
    @Test func unaryEchoAndMetadata() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let r = try await client.unary("/test.Echo/Unary", [1, 2, 3])
            #expect(r.httpStatus == 200)
            #expect(r.grpcStatus == 0)
            #expect(r.messages == [[1, 2, 3]])
            #expect(r.headers.contains { $0 == ("content-type", "application/grpc") })
            #expect(r.trailers.contains { $0 == ("grpc-status", "0") })
            let h = try await client.unary("/test.Echo/Header", [], headers: [("authorization", "secret-token")])
            #expect(h.messages == [Array("secret-token".utf8)])
            let empty = try await client.unary("/test.Echo/Unary", [])
            #expect(empty.messages == [[]])
            await client.close()
        }
    }

    @Test func unknownServiceAndMethodAreUnimplementedTrailersOnly() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let m = try await client.unary("/test.Echo/Nope", [1])
            #expect(m.grpcStatus == 12)
            #expect(m.grpcMessage == "unknown method Nope for service test.Echo")
            #expect(m.trailers.isEmpty)  // trailers-only: one HEADERS frame
            #expect(m.body.isEmpty)
            let s = try await client.unary("/other.Svc/X", [1])
            #expect(s.grpcStatus == 12)
            #expect(s.grpcMessage == "unknown service other.Svc")
            await client.close()
        }
    }

    @Test func handlerErrorsBecomeStatuses() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let f = try await client.unary("/test.Echo/Fail", [])
            #expect(f.grpcStatus == 5)
            #expect(f.field("grpc-message") == "nope: 100%25%0Asure")
            #expect(f.grpcMessage == "nope: 100%\nsure")
            let c = try await client.unary("/test.Echo/Custom", [])
            #expect(c.grpcStatus == 2)
            #expect(c.grpcMessage == "custom failure")
            await client.close()
        }
    }

    @Test func inlineFormAnswersOrHandsTheCallToTheAsyncHandler() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let inline = try await client.unary("/test.Echo/Inline", [1, 9])
            #expect(inline.grpcStatus == 0)
            #expect(inline.messages == [[1, 1, 9]])
            #expect(inline.trailers.contains { $0 == ("grpc-status", "0") })
            let fallback = try await client.unary("/test.Echo/Inline", [0, 9])
            #expect(fallback.grpcStatus == 0)
            #expect(fallback.messages == [[0, 0, 9]])
            let refused = try await client.unary("/test.Echo/Inline", [2])
            #expect(refused.grpcStatus == 11)
            #expect(refused.grpcMessage == "inline refused")
            #expect(refused.messages.isEmpty)
            await client.close()
        }
    }

    /// A callback form answers later from another thread, leaves the call to
    /// the async handler, or fails it; a call that ends first (its deadline)
    /// runs the cancel hook once and stops counting as running: a later
    /// call on the same connection still starts.
    @Test func callbackFormAnswersLaterOrHandsTheCallToTheAsyncHandler() async throws {
        try await withTestServer({ $0.maxRunningUnaryCalls = 1 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let later = try await client.unary("/test.Echo/Callback", [1, 9])
            #expect(later.grpcStatus == 0)
            #expect(later.messages == [[1, 1, 9]])
            #expect(later.trailers.contains { $0 == ("grpc-status", "0") })
            let fallback = try await client.unary("/test.Echo/Callback", [0, 9])
            #expect(fallback.grpcStatus == 0)
            #expect(fallback.messages == [[0, 0, 9]])
            let refused = try await client.unary("/test.Echo/Callback", [2])
            #expect(refused.grpcStatus == 11)
            #expect(refused.grpcMessage == "callback refused")
            let before = callbackCancels.withLockedValue { $0 }
            let abandoned = try await client.unary("/test.Echo/Callback", [3], headers: [("grpc-timeout", "100m")])
            #expect(abandoned.grpcStatus == 4)
            #expect(callbackCancels.withLockedValue { $0 } == before + 1)
            let after = try await client.unary("/test.Echo/Callback", [1, 8])
            #expect(after.messages == [[1, 1, 8]])
            await client.close()
        }
    }

    @Test func headerStringsShareRepeatedLongValuesOnly() {
        var strings = HeaderStrings()
        func string(_ text: String) -> String {
            Array(text.utf8).withUnsafeBufferPointer { strings.string($0) }
        }
        let path = "/etcdserverpb.KV/Range"
        #expect(string(path) == path)
        #expect(string(path) == path)
        #expect(string("te") == "te")
        #expect(string("/etcdserverpb.KV/Put") == "/etcdserverpb.KV/Put")
        // More distinct values than the ring holds: each still decodes to itself.
        for i in 0..<(HeaderStrings.capacity * 3) {
            let value = "application/grpc+\(i)-padding"
            #expect(string(value) == value)
        }
        #expect(string(path) == path)
        // Invalid UTF-8 decodes as String(decoding:) does, never matching a stored value.
        let bad: [UInt8] = Array("/etcdserverpb.KV/Rang".utf8) + [0xFF]
        #expect(bad.withUnsafeBufferPointer { strings.string($0) } == String(decoding: bad, as: UTF8.self))
    }

    @Test func serverStreamingAndBidi() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let s = try await client.unary("/test.Echo/Stream", [5])
            #expect(s.grpcStatus == 0)
            #expect(s.messages == [[0], [1], [2], [3], [4]])
            let none = try await client.unary("/test.Echo/Stream", [0])
            #expect(none.grpcStatus == 0)
            #expect(none.messages.isEmpty)
            let b = try await client.call("/test.Echo/Bidi", body: framed([[1], [2, 2], [3, 3, 3]]))
            #expect(b.grpcStatus == 0)
            #expect(b.messages == [[1], [2, 2], [3, 3, 3]])
            await client.close()
        }
    }

    /// Whichever side answers each message (the inline form while the
    /// handler waits, else the handler), every message gets one answer, in
    /// request order; messages the inline form leaves or refuses reach the handler.
    @Test func bidiInlineFormKeepsOneAnswerPerMessageInOrder() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            var requests: [[UInt8]] = []
            for i in 0..<60 { requests.append([UInt8(i % 3), UInt8(i)]) }
            let b = try await client.call("/test.Echo/BidiInline", body: framed(requests))
            #expect(b.grpcStatus == 0)
            #expect(b.messages.count == requests.count)
            for (request, response) in zip(requests, b.messages) {
                #expect(Array(response.dropFirst()) == request)
                #expect(response.first == 0 || (response.first == 1 && request.first == 1))
            }
            await client.close()
        }
    }

    @Test func manyConcurrentStreamsOnOneConnection() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let futures = (0..<300).map { i in
                client.start(i % 3 == 0 ? "/test.Echo/Slow" : "/test.Echo/Unary", body: framed([[UInt8(i % 256), 1]]))
            }
            for (i, f) in futures.enumerated() {
                let r = try await f.get()
                #expect(r.grpcStatus == 0)
                #expect(r.messages == [[UInt8(i % 256), 1]])
            }
            await client.close()
        }
    }

    @Test func deadlineExceeded() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let r = try await client.unary("/test.Echo/Sleep", [], headers: [("grpc-timeout", "100m")])
            #expect(r.grpcStatus == 4)
            #expect(r.grpcMessage == "context deadline exceeded")
            let ok = try await client.unary("/test.Echo/Unary", [9], headers: [("grpc-timeout", "10S")])
            #expect(ok.grpcStatus == 0)
            await client.close()
        }
    }

    /// A writer's pause (a timer on the connection's loop) lets the handler go
    /// on afterwards, and ends at once when the call is cancelled (here by its
    /// deadline) instead of holding the handler for the whole wait.
    @Test func writerPauseResumesAndEndsWhenTheCallIsCancelled() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let r = try await client.unary("/test.Echo/Pause", [0])
            #expect(r.grpcStatus == 0)
            #expect(r.messages == [[1], [2]])
            let before = pauseCancels.withLockedValue { $0 }
            let cut = try await client.unary("/test.Echo/Pause", [1], headers: [("grpc-timeout", "100m")])
            #expect(cut.grpcStatus == 4)
            // A hang guard, not a timing check: the pause itself lasts 30 s.
            for _ in 0..<200 where pauseCancels.withLockedValue({ $0 }) == before {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pauseCancels.withLockedValue { $0 } == before + 1)
            await client.close()
        }
    }

    /// Issue 18: `grpc-timeout: 2562048H` overflowed timeout + grace and
    /// killed the server; a deadline already past when the call would start
    /// (`1n`, `-1S`) is DEADLINE_EXCEEDED without running the handler.
    @Test func extremeTimeouts() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            for timeout in ["2562047H", "2562048H", "99999999H", "99999999S", "99999999n"] {
                let r = try await client.unary("/test.Echo/Deadline", [7], headers: [("grpc-timeout", timeout)])
                #expect(r.grpcStatus == 0, "\(timeout)")
                #expect(r.messages == [[7]])
            }
            for timeout in ["1n", "0n", "0H", "-1S"] {
                let r = try await client.unary("/test.Echo/Deadline", [7], headers: [("grpc-timeout", timeout)])
                #expect(r.grpcStatus == 4, "\(timeout)")
                #expect(r.grpcMessage == "context deadline exceeded")
                // Also when the message frame is bad (compressed flag 3, too large, or
                // cut short by the end of the stream: 5 bytes declared, 1 sent).
                for body: [UInt8] in [[3, 0, 0, 0, 1, 7], [0, 0x7F, 0xFF, 0xFF, 0xFF, 7], [0, 0, 0, 0, 5, 7]] {
                    let bad = try await client.call("/test.Echo/Deadline", body: body, headers: [("grpc-timeout", timeout)])
                    #expect(bad.grpcStatus == 4, "\(timeout) \(body)")
                }
            }
            await client.close()
        }
    }

    @Test func compressedOversizedAndBadContentType() async throws {
        try await withTestServer({ $0.maxReceiveBytes = 1024 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let compressed = try await client.call("/test.Echo/Unary", body: [1, 0, 0, 0, 1, 42])
            #expect(compressed.grpcStatus == 13)
            let gzip = StateMachineTests.gzip42
            let inflated = try await client.call("/test.Echo/Unary", body: [1, 0, 0, 0, UInt8(gzip.count)] + gzip,
                                                 headers: [("grpc-encoding", "gzip")])
            #expect(inflated.grpcStatus == 0)
            #expect(inflated.messages == [[4, 2]])
            let big = try await client.unary("/test.Echo/Unary", [UInt8](repeating: 1, count: 2000))
            #expect(big.grpcStatus == 8)
            #expect(big.grpcMessage == "grpc: received message larger than max (2000 vs. 1024)")
            // An encoding we cannot decompress is refused once the path names a method;
            // a malformed or unknown path is answered first, as grpc-go (etcd 3.5) does.
            let snappy = try await client.call("/test.Echo/Unary", body: [1, 0, 0, 0, 1, 42], headers: [("grpc-encoding", "snappy")])
            #expect(snappy.grpcStatus == 12)
            #expect(snappy.grpcMessage == "grpc: Decompressor is not installed for grpc-encoding \"snappy\"")
            let malformed = try await client.call("nopath", body: [1, 0, 0, 0, 1, 42], headers: [("grpc-encoding", "snappy")])
            #expect(malformed.grpcStatus == 8)
            #expect(malformed.grpcMessage == "malformed method name: \"nopath\"")
            let unknown = try await client.call("/other.Svc/M", body: [1, 0, 0, 0, 1, 42], headers: [("grpc-encoding", "x")])
            #expect(unknown.grpcStatus == 12)
            #expect(unknown.grpcMessage == "unknown service other.Svc")
            let json = try await client.call("/test.Echo/Unary", body: [], contentType: "application/json")
            #expect(json.httpStatus == 415)
            let fine = try await client.unary("/test.Echo/Unary", [UInt8](repeating: 2, count: 1024))
            #expect(fine.grpcStatus == 0)
            #expect(fine.messages.first?.count == 1024)
            await client.close()
        }
    }

    @Test func largeMessagesCrossFlowControlWindows() async throws {
        try await withTestServer { port, group, _ in
            // A 64 KiB client window: the 1.5 MiB response needs many WINDOW_UPDATEs.
            let client = try await H2TestClient.connect(port: port, group: group, windowBytes: 65535)
            let payload = (0..<(1536 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let r = try await client.unary("/test.Echo/Unary", payload)
            #expect(r.grpcStatus == 0)
            #expect(r.messages == [payload])
            await client.close()
        }
    }

    @Test func http1OnTheSamePort() async throws {
        try await withTestServer { port, group, _ in
            let reply = try await rawExchange(port: port, group: group,
                                              Array("GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            let text = String(decoding: reply.bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.hasSuffix("{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}"))
            let q = String(decoding: try await rawExchange(port: port, group: group,
                Array("GET /echo?a=1 HTTP/1.0\r\n\r\n".utf8)).bytes, as: UTF8.self)
            #expect(q.hasSuffix("GET a=1"))
            let missing = String(decoding: try await rawExchange(port: port, group: group,
                Array("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)).bytes, as: UTF8.self)
            #expect(missing.hasPrefix("HTTP/1.1 404"))
        }
    }

    @Test func gracefulShutdownFinishesInFlightCalls() async throws {
        try await withTestServer { port, group, server in
            let client = try await H2TestClient.connect(port: port, group: group)
            let before = gateStarted.withLockedValue { $0 }
            let inFlight = client.start("/test.Echo/Gate", body: framed([[7]]))
            while gateStarted.withLockedValue({ $0 }) == before { try await Task.sleep(for: .milliseconds(5)) }
            try await server.shutdown()
            let r = try await inFlight.get()
            #expect(r.grpcStatus == 0)
            #expect(r.messages == [[7]])
            try await client.closedPromise.futureResult.get()
            let goAway = try await client.channel.eventLoop.submit { client.goAwayErrorCode }.get()
            #expect(goAway == 0)
        }
    }
}
