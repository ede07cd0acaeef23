#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A gRPC (HTTP/2, nghttp2) and HTTP/1.1 server on one port.
///
/// `start()` binds and returns the port; `shutdown()` stops accepting, sends
/// GOAWAY on every HTTP/2 connection, lets in-flight calls finish (up to
/// `shutdownGracePeriod`), then closes what is left.
public final class GRPCServer: Sendable {
    /// Sent down each connection's pipeline by `shutdown()`.
    struct GracefulShutdownEvent: Sendable {}

    public let config: GRPCServerConfig
    public let router: GRPCRouter
    private let http1: HTTP1Service?
    private let group: any EventLoopGroup
    private let logger: Logger

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// `startAccepting()` was called (perhaps before the listener was bound).
        var acceptRequested = false
    }
    private let state = NIOLockedValueBox(State())

    public convenience init(config: GRPCServerConfig, router: GRPCRouter, http1: HTTP1Handler? = nil,
                            group: any EventLoopGroup, logger: Logger) {
        let service: HTTP1Service? = http1.map { handler in { request in await handler(request.method, request.path, request.query) } }
        self.init(config: config, router: router, http1Service: service, group: group, logger: logger)
    }

    /// `http1Service` sees whole HTTP/1.1 requests (bodies up to `config.maxHTTP1BodyBytes`).
    public init(config: GRPCServerConfig, router: GRPCRouter, http1Service: HTTP1Service?,
                group: any EventLoopGroup, logger: Logger) {
        self.config = config
        self.router = router
        self.http1 = http1Service
        self.group = group
        self.logger = logger
    }

    /// Binds `config.host:config.port` and returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let config = self.config, router = self.router, http1 = self.http1, logger = self.logger
        let limiter = config.connectionLimiter
        let bodyBudget = config.http1BodyBudget ?? HTTP1BodyBudget(
            totalBytes: max(64 << 20, 4 * config.maxHTTP1BodyBytes), freeBytesPerRequest: 64 << 10)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: config.reusePort ? 1 : 0)
            .serverChannelOption(.autoRead, value: config.acceptsAtStart)
            .serverChannelInitializer(ConnectionLimiter.installAcceptBackoff)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelInitializer { [weak self] channel in
                guard limiter.admit(channel, listener: "client", logger: logger) else { return channel.close() }
                self?.track(channel)
                let detector = ProtocolDetector(
                    makeHTTP2: config.serveGRPC
                        ? { H2ConnectionHandler(config: config, router: router, logger: logger, identity: $0) } : nil,
                    http1: http1, serveHTTP1: config.serveHTTP1, maxHTTP1BodyBytes: config.maxHTTP1BodyBytes,
                    bodyBudget: bodyBudget, prefaceTimeout: config.prefaceTimeout)
                guard let underneath = config.connectionInitializer else {
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(detector)
                    }
                }
                // TLS (or whatever the server put underneath) first, HTTP on top.
                return underneath(channel).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(detector)
                }
            }
        let channel = try await bootstrap.bind(host: config.host, port: config.port).get()
        let acceptNow = state.withLockedValue { state -> Bool in
            state.listener = channel
            return state.acceptRequested && !config.acceptsAtStart
        }
        if acceptNow { try await channel.setOption(.autoRead, value: true).get() }
        let port = channel.localAddress?.port ?? config.port
        logger.info("serving gRPC and HTTP/1.1", metadata: ["address": "\(config.host):\(port)"])
        return port
    }

    /// Starts accepting connections on a listener bound with
    /// `config.acceptsAtStart == false` (no effect otherwise, or once shut down).
    public func startAccepting() {
        let listener = state.withLockedValue { state -> (any Channel)? in
            state.acceptRequested = true
            return state.listener
        }
        guard let listener else { return }
        listener.setOption(.autoRead, value: true).whenFailure { [logger] error in
            logger.warning("failed to start accepting connections", metadata: ["error": "\(error)"])
        }
    }

    /// The bound port, once started.
    public var port: Int? { state.withLockedValue { $0.listener?.localAddress?.port } }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
        }
    }

    /// Graceful stop: no new connections, GOAWAY to HTTP/2 clients, in-flight
    /// calls finish. Bounded: whatever is still open `gracePeriod` (default
    /// `config.shutdownGracePeriod`) after the call is closed, all
    /// connections against one deadline, however many there are.
    public func shutdown(gracePeriod: TimeAmount? = nil) async throws {
        let (listener, connections) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            let l = state.listener
            state.listener = nil
            return (l, Array(state.connections.values))
        }
        try? await listener?.close()
        for channel in connections {
            // HTTP/2 connections drain; anything else (HTTP/1, undecided) just closes.
            channel.triggerUserOutboundEvent(GracefulShutdownEvent()).whenFailure { _ in
                channel.close(promise: nil)
            }
        }
        let deadline = NIODeadline.now() + (gracePeriod ?? config.shutdownGracePeriod)
        let timers = connections.map { channel in
            channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        }
        for channel in connections { try? await channel.closeFuture.get() }
        for timer in timers { timer.cancel() }
    }
}
