import CNGHTTP2
import NIOCore
import Testing
@testable import GRPCWire

/// Server-side keepalive (pings idle clients, drops dead ones) and advertised limits.
/// The time limit only bounds a hang: in a full parallel run on 2 cores a test
/// waited 112 s for the shared thread pool, which synchronous tests (seconds of
/// waitUntilExit or usleep) hold.
@Suite(.serialized, .timeLimit(.minutes(10))) struct KeepaliveTests {
    @Test func deadClientIsClosedLiveClientStays() async throws {
        try await withTestServer({
            $0.keepaliveInterval = .milliseconds(300)
            // The live client must answer each PING within this, however
            // loaded the machine: generous, it only delays the dead client's close.
            $0.keepaliveTimeout = .seconds(10)
            $0.keepalivePermitWithoutStream = true
        }) { port, group, _ in
            // Reads once (the SETTINGS), then never again: it cannot answer the server's PING.
            let dead = try await H2TestClient.connect(port: port, group: group, autoRead: false)
            try await dead.channel.eventLoop.submit { dead.channel.read() }.get()
            let live = try await H2TestClient.connect(port: port, group: group)
            try await dead.closedPromise.futureResult.get()
            // Several keepalive rounds have passed by now; the answering client is still served.
            #expect(live.isActive)
            let r = try await live.unary("/test.Echo/Unary", [1])
            #expect(r.grpcStatus == 0)
            await live.close()
        }
    }

    @Test func pingIsAnswered() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            try await client.submitPings(1)
            _ = try await client.unary("/test.Echo/Unary", [1])  // the ACK precedes this response
            let acks = try await client.channel.eventLoop.submit { client.pingAcks }.get()
            #expect(acks == 1)
            #expect(client.isActive)
            await client.close()
        }
    }

    /// grpc-go sends a PING with the request after each answer: its ACK
    /// waits for the answer of the call that came with it and leaves in the
    /// same write (one socket read here), not in a write of its own.
    @Test func pingAckLeavesWithTheAnswerOfTheCallItCameWith() async throws {
        try await withTestServer({ $0.controlFrameHold = .seconds(60) }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            _ = try await client.unary("/test.Echo/Unary", [1])  // settings exchanged by now
            // Callback form, answered 50 ms later from another thread.
            let r = try await client.startAfterPing("/test.Echo/Callback", body: framed([[1, 9]])).get()
            #expect(r.messages == [[1, 1, 9]])
            let ackReads = try await client.channel.eventLoop.submit { client.pingAckReads }.get()
            #expect(ackReads.count == 1)
            #expect(ackReads.first == r.headersRead)
            await client.close()
        }
    }

    /// A held ACK leaves once `controlFrameHold` has passed, whether or not
    /// the call is answered: a keepalive PING never waits behind a long call.
    @Test func heldPingAckLeavesWithoutTheAnswer() async throws {
        try await withTestServer({ $0.controlFrameHold = .milliseconds(20) }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            _ = try await client.unary("/test.Echo/Unary", [1])
            // Callback form, never answered until the call ends.
            let call = client.startAfterPing("/test.Echo/Callback", body: framed([[3]]))
            var acks = 0
            for _ in 0..<2000 where acks == 0 {
                try await Task.sleep(for: .milliseconds(10))
                acks = try await client.channel.eventLoop.submit { client.pingAcks }.get()
            }
            #expect(acks == 1)
            let unanswered = try await client.channel.eventLoop.submit { !client.streams.isEmpty }.get()
            #expect(unanswered)
            await client.close()
            _ = try await call.get()
        }
    }

    @Test func maxConcurrentStreamsIsAdvertised() async throws {
        try await withTestServer({ $0.maxConcurrentStreams = 7 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            _ = try await client.unary("/test.Echo/Unary", [1])  // settings exchanged by now
            let advertised = try await client.channel.eventLoop.submit {
                nghttp2_session_get_remote_settings(client.session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
            }.get()
            #expect(advertised == 7)
            // More calls than that still all complete: the client queues them.
            let calls = (0..<30).map { client.start("/test.Echo/Slow", body: framed([[UInt8($0)]])) }
            for (i, call) in calls.enumerated() {
                let r = try await call.get()
                #expect(r.messages == [[UInt8(i)]])
            }
            await client.close()
        }
    }

    @Test func streamsBeyondThePerConnectionCapAreReset() async throws {
        try await withTestServer({ $0.maxStreamsPerConnection = 3 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let open = (0..<3).map { _ in client.start("/test.Echo/Bidi", body: [], endRequest: false) }
            let extra = try await client.call("/test.Echo/Unary", body: framed([[1]]))
            #expect(extra.errorCode != 0)
            #expect(extra.grpcStatus == nil)
            await client.close()
            for call in open { _ = try await call.get() }
        }
    }

    @Test func bidiHandlerThatDoesNotReadHoldsBackTheClient() async throws {
        try await withTestServer({ $0.maxReceiveBytes = 64 * 1024 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            // /test.Echo/Sleep is unary: its request is never taken while the
            // client keeps the stream open, so at most one message plus the
            // windows can be in flight; the rest waits in the client.
            let body = framed((0..<200).map { _ in [UInt8](repeating: 1, count: 60 * 1024) })
            _ = client.start("/test.Echo/Sleep", body: body, endRequest: false)
            try await Task.sleep(for: .milliseconds(500))
            let unsent = try await client.channel.eventLoop.submit {
                client.streams.values.first.map { $0.requestBody.count - $0.requestIndex } ?? -1
            }.get()
            #expect(unsent > body.count / 2)
            let ok = try await client.unary("/test.Echo/Unary", [3])
            #expect(ok.grpcStatus == 0)
            await client.close()
        }
    }
}
