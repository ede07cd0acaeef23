import CNGHTTP2
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import GRPCWire

/// Misbehaving HTTP/2 peers: each case checks the server survives and still
/// serves a well-behaved client afterwards.
@Suite(.serialized, .timeLimit(.minutes(10))) struct HostileTests {
    private func expectHealthy(port: Int, group: any EventLoopGroup) async throws {
        let good = try await H2TestClient.connect(port: port, group: group)
        let r = try await good.unary("/test.Echo/Unary", [4, 2])
        #expect(r.grpcStatus == 0)
        #expect(r.messages == [[4, 2]])
        await good.close()
    }

    /// Opens `count` calls on `client`, cancelling each right after its HEADERS.
    private func openAndCancel(_ count: Int, on client: H2TestClient) async throws {
        try await client.channel.eventLoop.submit {
            for _ in 0..<count {
                let id = HeaderBlock.with([(":method", "POST"), (":scheme", "http"), (":path", "/test.Echo/Sleep"),
                                           (":authority", "x"), ("content-type", "application/grpc")]) {
                    cng_submit_request(client.session, $0, $1, nil)
                }
                client.flush()  // HEADERS out first, or nghttp2 just cancels them
                _ = nghttp2_submit_rst_stream(client.session, 0, id, NGHTTP2_CANCEL.rawValue)
                client.flush()
            }
        }.get()
    }

    @Test func rapidResetGetsGoAway() async throws {
        try await withTestServer({ $0.resetBurst = 100; $0.resetRatePerSecond = 10 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            try await openAndCancel(400, on: client)
            try await client.closedPromise.futureResult.get()
            let code = try await client.channel.eventLoop.submit { client.goAwayErrorCode }.get()
            #expect(code != nil && code != 0)
            try await expectHealthy(port: port, group: group)
        }
    }

    /// A client whose calls time out in bulk (an overloaded server, short
    /// deadlines) cancels thousands of calls in a burst; etcd keeps its
    /// connection, and so must we: a GOAWAY would end its watches too.
    @Test func cancellingThousandsOfCallsKeepsTheConnection() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            try await openAndCancel(3000, on: client)
            let r = try await client.unary("/test.Echo/Unary", [7])
            #expect(r.grpcStatus == 0)
            #expect(r.messages == [[7]])
            let code = try await client.channel.eventLoop.submit { client.goAwayErrorCode }.get()
            #expect(code == nil)
            await client.close()
        }
    }

    @Test func pingFloodGetsEnhanceYourCalm() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            for _ in 0..<10 { try await client.submitPings(1) }
            try await client.closedPromise.futureResult.get()
            let (code, debug) = try await client.channel.eventLoop.submit { (client.goAwayErrorCode, client.goAwayDebug) }.get()
            #expect(code == NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
            #expect(debug == "too_many_pings")
            try await expectHealthy(port: port, group: group)
        }
    }

    @Test func settingsAndEmptyDataFloods() async throws {
        try await withTestServer { port, group, _ in
            var bytes = h2Preface
            for _ in 0..<5000 { bytes += h2Frame(type: 4, stream: 0) }  // SETTINGS
            for _ in 0..<5000 { bytes += h2Frame(type: 6, stream: 0, [UInt8](repeating: 1, count: 8)) }  // PING
            let settings = try await rawExchange(port: port, group: group, bytes + h2Frame(type: 7, stream: 0, [0, 0, 0, 0, 0, 0, 0, 0]))
            #expect(settings.closedByServer)
            // Empty DATA frames on an open stream.
            let hpack: [UInt8] = [0x83, 0x86, 0x44, 0x10] + Array("/test.Echo/Unary".utf8)
                + [0x41, 0x01, 0x78, 0x5f, 0x10] + Array("application/grpc".utf8)
            var data = h2Preface + h2Frame(type: 1, flags: 4, stream: 1, hpack)
            for _ in 0..<20000 { data += h2Frame(type: 0, stream: 1) }
            data += h2Frame(type: 0, flags: 1, stream: 1, framed([[5]]))
            data += h2Frame(type: 7, stream: 0, [0, 0, 0, 1, 0, 0, 0, 0])
            let empty = try await rawExchange(port: port, group: group, data)
            #expect(empty.closedByServer)
            #expect(empty.bytes.count > 0)
            try await expectHealthy(port: port, group: group)
        }
    }

    @Test func continuationFloodAndHugeHeaders() async throws {
        try await withTestServer { port, group, _ in
            // HEADERS without END_HEADERS, then endless CONTINUATION frames.
            var bytes = h2Preface + h2Frame(type: 1, stream: 1, [0x83, 0x86])
            for _ in 0..<1000 { bytes += h2Frame(type: 9, stream: 1, [0x40, 0x01, 0x61, 0x01, 0x62]) }
            let reply = try await rawExchange(port: port, group: group, bytes)
            #expect(reply.closedByServer)
            #expect(reply.bytes.count < 1000)  // settings, GOAWAY: no amplification
            // A header list over the limit resets just that stream.
            let client = try await H2TestClient.connect(port: port, group: group)
            let headers = (0..<80).map { ("x-pad-\($0)", String(repeating: "v", count: 1024)) }
            let r = try await client.unary("/test.Echo/Unary", [1], headers: headers)
            #expect(r.errorCode != 0)
            #expect(r.grpcStatus == nil)
            let ok = try await client.unary("/test.Echo/Unary", [1])
            #expect(ok.grpcStatus == 0)
            await client.close()
            try await expectHealthy(port: port, group: group)
        }
    }

    @Test func garbageInvalidFramesAndClosedStreams() async throws {
        try await withTestServer { port, group, _ in
            let cases: [[UInt8]] = [
                h2Preface + (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) },  // garbage after the preface
                (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131) },  // garbage instead of any protocol
                h2Preface + h2Frame(type: 0, stream: 99, [1, 2, 3]),  // DATA on a stream never opened
                h2Preface + h2Frame(type: 8, stream: 0, [0, 0, 0, 0]),  // WINDOW_UPDATE of 0
                h2Preface + h2Frame(type: 4, stream: 1, []),  // SETTINGS on a stream
                h2Preface + h2Frame(type: 0xEE, stream: 0, [1]) + h2Frame(type: 7, stream: 0, [UInt8](repeating: 0, count: 8)),
            ]
            for bytes in cases {
                let reply = try await rawExchange(port: port, group: group, bytes)
                #expect(reply.closedByServer)
            }
            try await expectHealthy(port: port, group: group)
        }
    }

    @Test func neverReadingClientDoesNotGrowServerBuffers() async throws {
        try await withTestServer { port, group, _ in
            // A huge window, but the client stops reading the socket: only TCP
            // buffers and the server's bounded queues may fill up.
            let client = try await H2TestClient.connect(port: port, group: group, windowBytes: Int32.max, autoRead: false)
            try await client.channel.eventLoop.submit { client.channel.read() }.get()  // read the SETTINGS once
            _ = client.start("/test.Echo/Flood", body: framed([Array("stuck".utf8)]))
            try await Task.sleep(for: .seconds(2))  // let the handler run into backpressure
            let sent = floodSent.withLockedValue { $0["stuck", default: 0] }
            // 4096 × 16 KiB = 64 MiB would be sent without backpressure; socket buffers hold a few MiB.
            #expect(sent < 1024)
            try await expectHealthy(port: port, group: group)
            await client.close()
        }
    }

    @Test func gracefulStopDoesNotWaitForAClientThatStoppedReadingAnAnswer() async throws {
        try await withTestServer { port, group, server in
            // A 1,000-byte window the client never opens (it reads nothing):
            // the 20 KB answer is finished by its handler but cannot leave.
            let client = try await H2TestClient.connect(port: port, group: group, windowBytes: 1000, autoRead: false)
            let before = gateStarted.withLockedValue { $0 }
            _ = client.start("/test.Echo/Gate", body: framed([[UInt8](repeating: 7, count: 20_000)]))
            while gateStarted.withLockedValue({ $0 }) == before { try await Task.sleep(for: .milliseconds(5)) }
            try await expectStopsBeforeItsGrace(server)
            await client.close()
        }
    }

    @Test func gracefulStopDoesNotWaitForAClientThatStoppedReadingAStream() async throws {
        try await withTestServer { port, group, server in
            // The stream's handler stays suspended in a send until the client reads.
            let client = try await H2TestClient.connect(port: port, group: group, windowBytes: Int32.max, autoRead: false)
            _ = client.start("/test.Echo/Flood", body: framed([Array("stopping".utf8)]))
            while floodSent.withLockedValue({ $0["stopping", default: 0] }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try await expectStopsBeforeItsGrace(server)
            await client.close()
        }
    }

    /// Stops `server` with a 600 s grace and expects it to have stopped long
    /// before: the wait is a hang guard, not a deadline (without the stall
    /// rule of `DrainProgress` the stop takes the whole grace).
    private func expectStopsBeforeItsGrace(_ server: GRPCServer) async throws {
        let stopped = NIOLockedValueBox(false)
        let stop = Task {
            try await server.shutdown(gracePeriod: .seconds(600))
            stopped.withLockedValue { $0 = true }
        }
        for _ in 0..<600 where !stopped.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(stopped.withLockedValue { $0 })
        stop.cancel()
    }

    @Test func h2loadAgainstEcho() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/h2load") else { return }
        try await withTestServer { port, _, _ in
            let body = FileManager.default.temporaryDirectory.appendingPathComponent("grpc-wire-h2load-\(port).bin")
            try Data(framed([[1, 2, 3, 4]])).write(to: body)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/h2load")
            p.arguments = ["-n", "2000", "-c", "4", "-m", "100", "-d", body.path,
                           "-H", "content-type: application/grpc", "-H", "te: trailers",
                           "http://127.0.0.1:\(port)/test.Echo/Unary"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            #expect(text.contains("2000 succeeded, 0 failed, 0 errored"), "\(text)")
        }
    }
}
