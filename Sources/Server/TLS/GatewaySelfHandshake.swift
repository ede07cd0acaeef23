import Config
import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS

/// Whether etcd's JSON gateway could reach this member's own gRPC server.
///
/// etcd's gateway is a gRPC client of its own TLS listener: it presents
/// `--client-cert-file` (else `--cert-file`) and trusts any server
/// certificate. When the listener requires client certificates, that
/// certificate must pass the listener's own verification (trusted CA,
/// clientAuth usage, expiry); a server-only certificate without
/// `--client-cert-file` fails, and every gateway call answers HTTP 503 with
/// grpc-go's handshake error. Our gateway calls gRPC in process, so the
/// handshake is played once in memory per loaded material instead.
enum GatewaySelfHandshake {
    /// What etcd 3.5's gateway answers (gRPC code 14) while its dial fails.
    static let refusal = #"connection error: desc = "transport: authentication handshake failed: remote error: tls: bad certificate""#

    /// nil when a client presenting `material`'s outbound pair completes a
    /// handshake with `server` (the gRPC listener's context), else `refusal`.
    static func check(server: NIOSSLContext, material: TLSMaterial, policy: TLSPolicy) -> String? {
        var c = TLSConfiguration.makeClientConfiguration()
        // etcd's gateway dials with a clone of the server's TLS config.
        TLSContexts.apply(policy, to: &c)
        c.certificateChain = material.outboundChain.map { .certificate($0) }
        c.privateKey = .privateKey(material.outboundKey)
        c.certificateVerification = .none
        c.applicationProtocols = ["h2"]
        do {
            let done = HandshakeSeen()
            let client = EmbeddedChannel(handler: try NIOSSLClientHandler(context: NIOSSLContext(configuration: c),
                                                                         serverHostname: nil))
            let listener = EmbeddedChannel(handlers: [NIOSSLServerHandler(context: server), done])
            defer {
                // Closing a TLS channel waits for the peer's close_notify or a
                // timer; the embedded loops' clocks are moved past it (a
                // `wait()` or `finish()` here would block for ever).
                client.close(promise: nil)
                listener.close(promise: nil)
                client.embeddedEventLoop.advanceTime(by: .minutes(1))
                listener.embeddedEventLoop.advanceTime(by: .minutes(1))
            }
            let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
            _ = listener.connect(to: address)
            _ = client.connect(to: address)
            listener.embeddedEventLoop.run()
            client.embeddedEventLoop.run()
            // A handshake takes two round trips; the listener completes only
            // after it verified the client's certificate (TLS 1.2 and 1.3).
            for _ in 0..<8 {
                var moved = false
                while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                    try listener.writeInbound(bytes)
                    moved = true
                }
                while let bytes = try listener.readOutbound(as: ByteBuffer.self) {
                    try client.writeInbound(bytes)
                    moved = true
                }
                listener.embeddedEventLoop.run()
                client.embeddedEventLoop.run()
                if !moved { break }
            }
            return done.completed ? nil : refusal
        } catch {
            return refusal
        }
    }

    /// Records the listener side's handshake completion (after it verified
    /// the client's certificate).
    private final class HandshakeSeen: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var completed = false

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { completed = true }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
