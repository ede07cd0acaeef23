import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import GRPCWire

/// `GRPCServerConfig.connectionInitializer` (where the server puts TLS),
/// the identity it announces, and ports limited to one protocol.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ConnectionHookTests {
    /// Stands in for a TLS layer: announces a client CN when the connection opens.
    final class Announcer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let name: String
        init(_ name: String) { self.name = name }
        func channelActive(context: ChannelHandlerContext) {
            context.fireChannelActive()
            context.fireUserInboundEventTriggered(GRPCConnectionIdentified(GRPCConnectionIdentity(verifiedClientCertCommonName: name)))
        }
    }

    @Test func initializerRunsUnderneathAndIdentityReachesCalls() async throws {
        let calls = NIOLockedValueBox(0)
        try await withTestServer({ config in
            config.connectionInitializer = { channel in
                calls.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Announcer("alice")) }
            }
        }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let r = try await client.unary("/test.Echo/CommonName", [])
            #expect(r.messages == [Array("alice".utf8)])
            await client.close()
            #expect(calls.withLockedValue { $0 } == 1)
        }
    }

    @Test func noIdentityOnPlainConnections() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            #expect(try await client.unary("/test.Echo/CommonName", []).messages == [Array("-".utf8)])
            await client.close()
        }
    }

    @Test func failedInitializerClosesTheConnection() async throws {
        try await withTestServer({ config in
            config.connectionInitializer = { channel in channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        }) { port, group, _ in
            // Closed before or right after our bytes go out: no answer either way.
            let r = try? await rawExchange(port: port, group: group, Array("GET /version HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(r.map { $0.bytes.isEmpty && $0.closedByServer } ?? true)
        }
    }

    @Test func grpcOnlyPortClosesHTTP1() async throws {
        try await withTestServer({ $0.serveHTTP1 = false }) { port, group, _ in
            let r = try await rawExchange(port: port, group: group, Array("GET /version HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(r.bytes.isEmpty && r.closedByServer)
            let client = try await H2TestClient.connect(port: port, group: group)
            #expect(try await client.unary("/test.Echo/Unary", [7]).messages == [[7]])
            await client.close()
        }
    }

    @Test func httpOnlyPortClosesHTTP2() async throws {
        try await withTestServer({ $0.serveGRPC = false }) { port, group, _ in
            let h2 = try await rawExchange(port: port, group: group, h2Preface)
            #expect(h2.bytes.isEmpty && h2.closedByServer)
            let r = try await rawExchange(port: port, group: group,
                                          Array("GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            #expect(String(decoding: r.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
    }
}
