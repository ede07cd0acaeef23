import Config
import NIOCore
import NIOPosix
import Glibc
import Support
import Foundation

/// Opens connections to peer URLs, parsed with etcd's rules (`EtcdURL`):
/// `http://` dials plain TCP, `https://` adds TLS (`TLSClientSide`) under
/// the peer frames. Used by the Raft stream (`PeerClient`), snapshot
/// transfers (`SnapshotSender`) and member discovery (`PeerDiscovery`).
struct PeerDialer: Sendable {
    /// nil: no peer TLS configured, so `https://` URLs cannot be dialed.
    let tls: TLSClientSide?

    struct Target: Sendable, Equatable, CustomStringConvertible {
        var host: String
        var port: Int
        var secure: Bool
        var description: String { "\(secure ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    }

    static func target(_ url: String) throws -> Target {
        let parsed: EtcdURL
        do { parsed = try EtcdURL.parse(url) } catch { throw PeerProtocolError("invalid peer URL \(url): \(error.message)") }
        guard !parsed.isUnix, let port = parsed.portNumber else { throw PeerProtocolError("invalid peer URL \(url)") }
        return Target(host: parsed.host, port: port, secure: parsed.isSecure)
    }

    /// Connects like `connect`, and for plain TCP also returns a `dup` of the
    /// channel's socket for `PeerSocketWriter` (nil with TLS): the TCP
    /// connect (and name lookup) runs on a thread of its own, not NIO's
    /// small blocking pool, which an unreachable peer's connect timeouts
    /// would otherwise keep busy; the channel takes the socket.
    func connectWithSocket(_ target: Target, on eventLoop: any EventLoop, timeout: TimeAmount,
                           timeouts: (@Sendable () -> PeerTimeoutHandler?)? = nil,
                           handler: @escaping @Sendable () -> any ChannelInboundHandler)
        -> EventLoopFuture<(channel: any Channel, socket: CInt?)> {
        if target.secure {
            return connect(target, on: eventLoop, timeout: timeout, timeouts: timeouts, handler: handler).map { ($0, nil) }
        }
        let timeoutMs = Int32(clamping: timeout.nanoseconds / 1_000_000)
        let dialed = eventLoop.makePromise(of: CInt.self)
        Thread.named("peer-dial") {
            dialed.completeWith(Result { try PeerSocketWriter.connect(host: target.host, port: target.port, timeoutMs: timeoutMs) })
        }.start()
        return dialed.futureResult.flatMap { fd in
            let copy = dup(fd)
            return ClientBootstrap(group: eventLoop)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let handler = timeouts?() { try channel.pipeline.syncOperations.addHandler(handler) }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler())
                    }
                }
                .withConnectedSocket(fd)
                .map { (channel: $0, socket: copy >= 0 ? Optional(copy) : nil) }
                .flatMapErrorThrowing { error in
                    if copy >= 0 { close(copy) }
                    throw error
                }
        }
    }

    /// Connects; the pipeline is (deadlines,) (TLS,) frame decoder, `handler()`. With
    /// TLS the future completes on the TCP connect; writes wait for the handshake.
    /// `timeouts` (rafthttp's deadlines) goes first, next to the socket.
    func connect(_ target: Target, on eventLoop: any EventLoop, timeout: TimeAmount,
                 timeouts: (@Sendable () -> PeerTimeoutHandler?)? = nil,
                 handler: @escaping @Sendable () -> any ChannelInboundHandler) -> EventLoopFuture<any Channel> {
        if target.secure && tls == nil {
            return eventLoop.makeFailedFuture(PeerProtocolError(
                "cannot dial \(target): no peer TLS configured (--peer-cert-file/--peer-key-file or --peer-auto-tls)"))
        }
        let tls = target.secure ? self.tls : nil
        return ClientBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                let frames = {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
                let deadlines = channel.eventLoop.makeCompletedFuture {
                    if let handler = timeouts?() { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                guard let tls else { return deadlines.flatMapThrowing(frames) }
                return deadlines.flatMap { tls.initialize(channel, host: target.host) }.flatMapThrowing(frames)
            }
            .connect(host: target.host, port: target.port)
    }
}
