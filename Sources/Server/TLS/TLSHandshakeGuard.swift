import GRPCWire
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Sits right above the BoringSSL handler of an accepted connection until
/// the handshake completes:
/// - a handshake not finished within `timeout` (a client that connects and
///   stalls, or trickles bytes) closes the connection;
/// - a failed handshake is logged as etcd does ("rejected connection") and
///   the connection closed;
/// - on completion it announces the verified client certificate's CN to
///   GRPCWire (`GRPCConnectionIdentified`) and removes itself.
final class TLSHandshakeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?
    private var done = false
    /// Set by the certificate check during the handshake (same event loop).
    var commonName: String?
    /// Why the in-handshake check refused the certificate (logged instead
    /// of BoringSSL's generic verification failure).
    var refusal: String?

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, !self.done else { return }
            self.logger.debug("closing connection: TLS handshake timed out",
                              metadata: ["remote-addr": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted, !done {
            done = true
            timer?.cancel()
            context.fireUserInboundEventTriggered(event)
            context.fireUserInboundEventTriggered(
                GRPCConnectionIdentified(GRPCConnectionIdentity(verifiedClientCertCommonName: commonName)))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// "127.0.0.1:43662", as etcd logs the address.
    static func hostPort(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !done {
            logger.warning("rejected connection", metadata: [
                "remote-addr": "\(context.remoteAddress.map(Self.hostPort) ?? "?")",
                "error": "\(refusal ?? TLSErrorText.describe(error))"])
            done = true
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }
}
