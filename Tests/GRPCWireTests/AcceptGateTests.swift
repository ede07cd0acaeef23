import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import GRPCWire

/// A listener bound with `acceptsAtStart = false` (a member's client ports
/// before it is ready) answers nothing until `startAccepting()`; the
/// connection that waited meanwhile is then served, not lost.
@Suite struct AcceptGateTests {
    @Test func nothingIsServedUntilTheServerStartsAccepting() async throws {
        try await withTestServer({ $0.acceptsAtStart = false }) { port, group, server in
            let answered = NIOLockedValueBox(false)
            let exchange = Task {
                let reply = try await rawExchange(port: port, group: group,
                                                  Array("GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
                answered.withLockedValue { $0 = true }
                return String(decoding: reply.bytes, as: UTF8.self)
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(!answered.withLockedValue { $0 }, "answered before startAccepting()")
            server.startAccepting()
            let text = try await exchange.value
            #expect(text.hasPrefix("HTTP/1.1 200 OK"), "\(text)")
        }
    }
}
