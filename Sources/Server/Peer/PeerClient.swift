import Foundation
import Logging
import NIOCore
import NIOPosix
import Support

/// The outbound connection to one peer: connects (and reconnects with
/// exponential backoff), says hello, then writes Raft messages in order.
/// The backoff resets only after a connection stayed up `backoffMaxMs`: a
/// peer that accepts TCP and then refuses (TLS, hello rejected) is redialed
/// at most about once a second, not 20 times, and its refusal is logged at
/// most once per `LogRateLimiter` interval.
///
/// Memory is bounded: at most `maxPendingBytes` may sit in the channel's
/// write buffer; while disconnected or over the bound, messages are dropped
/// and `onUnreachable` tells Raft, which then probes the peer again later
/// (as etcd's rafthttp does).
///
/// All state is confined to `eventLoop`; `send` hops onto it.
final class PeerClient: @unchecked Sendable {
    let peerID: UInt64
    private let target: PeerDialer.Target
    private let dialer: PeerDialer
    private let hello: PeerFrame
    private let eventLoop: EventLoop
    private let logger: Logger
    private let onUnreachable: @Sendable (UInt64) -> Void
    /// The peer refused our hello; the reason (`PeerNetwork.removedReason` stops this member).
    private let onRejected: @Sendable (String) -> Void
    /// `--raft-write-timeout` (see `PeerTimeoutHandler`).
    private let writeTimeout: TimeAmount
    static let maxPendingBytes = 16 << 20
    static let backoffMinMs: Int64 = 50
    static let backoffMaxMs: Int64 = 1000

    // Loop-confined.
    private var channel: Channel?
    private var connecting = false
    private var stopped = false
    private var backoffMs = PeerClient.backoffMinMs
    /// When the current connection came up (`MonotonicClock` ns), 0 while down.
    private var upSince: UInt64 = 0
    private let failureLog = LogRateLimiter()
    private var pendingBytes = 0
    /// Direct writes into a plain-TCP connection's socket from any thread.
    private let direct = PeerSocketWriter()
    private var everConnected = false
    private var reportedDown = false

    private let activeLock = NSLock()
    /// `MonotonicClock` nanoseconds (a wall clock step must not age or rejuvenate it).
    private var connectedAt: UInt64?  // guarded by `activeLock`
    /// Since when the connection to the peer is up (nil while down): etcd's
    /// transport `ActiveSince`, which the strict reconfiguration check reads.
    var activeSince: UInt64? { activeLock.withLock { connectedAt } }

    init(peerID: UInt64, url: String, hello: PeerHello, dialer: PeerDialer, eventLoop: EventLoop,
         writeTimeout: TimeAmount = .seconds(5), logger: Logger, onRejected: @escaping @Sendable (String) -> Void = { _ in },
         onUnreachable: @escaping @Sendable (UInt64) -> Void) throws {
        self.onRejected = onRejected
        self.writeTimeout = writeTimeout
        self.peerID = peerID
        self.target = try PeerDialer.target(url)
        self.dialer = dialer
        self.hello = .hello(hello)
        self.eventLoop = eventLoop
        self.onUnreachable = onUnreachable
        var logger = logger
        logger[metadataKey: "remote-peer-id"] = "\(String(peerID, radix: 16))"
        self.logger = logger
    }

    func start() { eventLoop.execute { self.connect() } }

    func stop() {
        eventLoop.execute {
            self.stopped = true
            self.channel?.close(promise: nil)
            self.channel = nil
        }
    }

    /// Sends encoded Raft messages, in order, to this peer; any thread.
    func send(_ messages: [[UInt8]]) {
        write(messages.map { .message($0) }, reportDrop: true)
    }

    /// Sends other frames (lease forwarding); dropped silently when down.
    func send(frames: [PeerFrame]) {
        write(frames, reportDrop: false)
    }

    /// Written from the caller's thread when the socket takes them at once
    /// (`PeerSocketWriter`), else on the event loop.
    private func write(_ frames: [PeerFrame], reportDrop: Bool) {
        var size = 0
        for f in frames {
            if case .message(let bytes) = f { size += bytes.count + 5 } else { size += 64 }
        }
        var buffer = Self.allocator.buffer(capacity: size)
        for f in frames { f.write(into: &buffer) }
        direct.write(buffer) { rest, mustFinish in
            self.eventLoop.execute { self.writeOnLoop(rest, reportDrop: reportDrop, mustFinish: mustFinish) }
        }
    }

    private static let allocator = ByteBufferAllocator()

    /// The rest of `write`, on the event loop. A frame begun directly
    /// (`mustFinish`) is not dropped for the pending bound (the connection
    /// would otherwise carry half a frame).
    private func writeOnLoop(_ buffer: ByteBuffer, reportDrop: Bool, mustFinish: Bool) {
        guard let channel, channel.isActive, mustFinish || pendingBytes < Self.maxPendingBytes else {
            if reportDrop { onUnreachable(peerID) }
            direct.loopWriteDone(failed: mustFinish)
            return
        }
        let size = buffer.readableBytes
        pendingBytes += size
        let direct = self.direct
        channel.writeAndFlush(buffer).whenComplete { result in
            self.pendingBytes -= size
            if case .failure = result { direct.loopWriteDone(failed: true) } else { direct.loopWriteDone(failed: false) }
        }
    }

    private func connect() {
        guard !stopped, channel == nil, !connecting else { return }
        connecting = true
        let logger = self.logger
        let writeTimeout = self.writeTimeout
        let onRejected = self.onRejected
        let failureLog = self.failureLog
        let direct = self.direct
        dialer.connectWithSocket(target, on: eventLoop, timeout: .seconds(1),
                                 timeouts: { PeerTimeoutHandler(readTimeout: nil, writeTimeout: writeTimeout, logger: logger) }) {
            PeerRejectionLogger(logger: logger, limiter: failureLog, onRejected: onRejected)
        }
            .whenComplete { result in
                self.connecting = false
                switch result {
                case .success(let (channel, socket)):
                    if self.stopped {
                        if let socket { close(socket) }
                        channel.close(promise: nil)
                        return
                    }
                    var buffer = channel.allocator.buffer(capacity: 64)
                    self.hello.write(into: &buffer)
                    // Direct writes start once the hello is in the socket; until
                    // then (and without a socket: TLS) everything goes through here.
                    channel.writeAndFlush(buffer).whenComplete { result in
                        guard let socket else { return }
                        if case .success = result, channel.isActive { direct.open(socket) } else { close(socket) }
                    }
                    self.channel = channel
                    self.upSince = MonotonicClock.nanoseconds()
                    if self.reportedDown || !self.everConnected {
                        self.logger.info("peer connection established", metadata: ["remote": "\(self.target)"])
                    }
                    self.everConnected = true
                    self.reportedDown = false
                    self.activeLock.withLock { self.connectedAt = MonotonicClock.nanoseconds() }
                    channel.closeFuture.whenComplete { _ in
                        direct.close()
                        self.activeLock.withLock { self.connectedAt = nil }
                        self.channel = nil
                        // A connection that proved itself is redialed at once; one closed
                        // right away (refused after TCP) keeps backing off.
                        let upNanos = MonotonicClock.nanoseconds() &- self.upSince
                        if upNanos >= UInt64(Self.backoffMaxMs) * 1_000_000 { self.backoffMs = Self.backoffMinMs }
                        self.scheduleReconnect()
                    }
                case .failure(let error):
                    if !self.reportedDown {
                        self.reportedDown = true
                        self.logger.warning("peer unreachable; retrying with backoff", metadata: [
                            "remote": "\(self.target)", "error": "\(error)"])
                    }
                    self.scheduleReconnect()
                }
            }
    }

    private func scheduleReconnect() {
        guard !stopped else { return }
        let delay = backoffMs
        backoffMs = min(backoffMs * 2, Self.backoffMaxMs)
        eventLoop.scheduleTask(in: .milliseconds(delay)) { self.connect() }
    }
}

/// Logs the receiver's refusal (another cluster, unknown member) clearly.
private final class PeerRejectionLogger: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    let logger: Logger
    let limiter: LogRateLimiter
    let onRejected: @Sendable (String) -> Void

    init(logger: Logger, limiter: LogRateLimiter, onRejected: @escaping @Sendable (String) -> Void) {
        self.logger = logger
        self.limiter = limiter
        self.onRejected = onRejected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .helloRejected(let reason) = unwrapInboundIn(data) {
            if let held = limiter.admit("refused " + reason) {
                logger.error("peer refused our connection", metadata: ["reason": "\(reason)", "suppressed": "\(held)"])
            }
            context.close(promise: nil)
            onRejected(reason)
        }
    }

    /// A failed TLS handshake (wrong CA, SAN or CN) lands here; the
    /// connection closes and is retried with backoff.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let held = limiter.admit("failed \(error)") {
            logger.warning("peer connection failed", metadata: ["error": "\(error)", "suppressed": "\(held)"])
        }
        context.close(promise: nil)
    }
}
