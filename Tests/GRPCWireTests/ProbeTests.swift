import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import GRPCWire

/// The metrics hooks (`GRPCMethodProbe`): started once, messages counted,
/// `handled` exactly once with the final code, also for deadlines.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ProbeTests {
    final class Recorder: GRPCMethodProbe {
        struct Counts: Equatable {
            var started = 0, received = 0, sent = 0
            var handled: [GRPCStatus.Code] = []
        }
        let counts = NIOLockedValueBox(Counts())
        func started() { counts.withLockedValue { $0.started += 1 } }
        func received() { counts.withLockedValue { $0.received += 1 } }
        func sent() { counts.withLockedValue { $0.sent += 1 } }
        func handled(_ code: GRPCStatus.Code, startedNanos: UInt64) {
            #expect(startedNanos > 0 && startedNanos <= NIODeadline.now().uptimeNanoseconds)
            counts.withLockedValue { $0.handled.append(code) }
        }
        var value: Counts { counts.withLockedValue { $0 } }
    }

    @Test func probesSeeEveryCallAndItsCode() async throws {
        try await withTestServer { port, group, server in
            let unary = Recorder(), fail = Recorder(), stream = Recorder(), bidi = Recorder(), sleep = Recorder()
            server.router.setProbe(unary, for: "/test.Echo/Unary")
            server.router.setProbe(fail, for: "/test.Echo/Fail")
            server.router.setProbe(stream, for: "/test.Echo/Stream")
            server.router.setProbe(bidi, for: "/test.Echo/Bidi")
            server.router.setProbe(sleep, for: "/test.Echo/Sleep")
            let client = try await H2TestClient.connect(port: port, group: group)
            _ = try await client.unary("/test.Echo/Unary", [1])
            _ = try await client.unary("/test.Echo/Unary", [2])
            _ = try await client.unary("/test.Echo/Fail", [])
            _ = try await client.unary("/test.Echo/Stream", [3])
            _ = try await client.call("/test.Echo/Bidi", body: framed([[1], [2]]))
            _ = try await client.unary("/test.Echo/Sleep", [], headers: [("grpc-timeout", "50m")])
            await client.close()
            #expect(unary.value == .init(started: 2, received: 2, sent: 2, handled: [.ok, .ok]))
            #expect(fail.value == .init(started: 1, received: 1, sent: 0, handled: [.notFound]))
            #expect(stream.value == .init(started: 1, received: 1, sent: 3, handled: [.ok]))
            #expect(bidi.value == .init(started: 1, received: 2, sent: 2, handled: [.ok]))
            #expect(sleep.value.handled == [.deadlineExceeded])
        }
    }
}
