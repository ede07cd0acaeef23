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

    /// What etcd 3.5's gateway answers when its certificate is on the
    /// listener's `--client-crl-file`: the listener completes the handshake,
    /// then closes the connection (grpc-go: "write tcp …: write: broken pipe").
    static let revokedRefusal = "write: broken pipe"

    /// What etcd 3.5's gateway answers whenever `--client-cert-allowed-hostname`
    /// is set: its dial uses a copy of the listener's TLS settings, hostname
    /// check included, with server verification off, so the check sees no
    /// verified chain and refuses the server (etcd 3.5.1 behaves so).
    static let allowedHostnameRefusal =
        #"connection error: desc = "transport: authentication handshake failed: client certificate authentication failed""#

    /// nil when etcd's gateway, presenting `material`'s outbound pair, would
    /// be served by the gRPC listener (`server` context and the CRL), else
    /// its dial error.
    static func check(server: NIOSSLContext, material: TLSMaterial, policy: TLSPolicy) -> String? {
        if let refusal = handshake(server: server, material: material, policy: policy) { return refusal }
        // The listener checks the CRL after the handshake (as etcd): every
        // certificate the gateway presents.
        if let crl = material.crl {
            for certificate in material.outboundChain {
                guard let der = try? certificate.toDERBytes(), let facts = try? CertificateFacts(der: der) else { continue }
                if crl.isRevoked(serial: facts.serial) { return revokedRefusal }
            }
        }
        return nil
    }

    /// nil when a client presenting `material`'s outbound pair completes a
    /// handshake with `server` (the gRPC listener's context), else `refusal`.
    private static func handshake(server: NIOSSLContext, material: TLSMaterial, policy: TLSPolicy) -> String? {
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
