import Foundation
import GRPCWire
import Logging
import NIOCore
import NIOPosix
import Raft

/// Accepts peer connections on `--listen-peer-urls`: checks each sender's
/// hello (same cluster, addressed to this member, a known member) and hands
/// its Raft messages to `deliver`, one batch per socket read.
final class PeerListener: @unchecked Sendable {
    private let group: EventLoopGroup
    /// TLS under the peer frames on an `https://` peer URL.
    private let tls: TLSServerSide?
    private let logger: Logger
    private let admit: @Sendable (PeerHello) -> String?
    private let deliver: @Sendable ([Message]) -> Void
    private let control: @Sendable (UInt64, PeerFrame) -> Void
    private let members: @Sendable () -> ClusterPeerFrame
    private let http: @Sendable (String, String) -> PeerHTTPAnswer
    private let snapshots: SnapshotSink
    private let settings: PeerSettings
    private var channel: Channel?
    /// One for every inbound connection: a peer refused on each redial is logged every few seconds.
    private let refusalLog = LogRateLimiter()

    /// `admit` returns nil to accept a hello, or the reason to refuse it;
    /// `control` gets the admitted sender's non-Raft frames (lease and
    /// promote forwarding); `members` answers a joining member's
    /// `membersRequest` (sent instead of a hello); `snapshots` takes in
    /// snapshot transfers (`SnapshotReceiver`); `http` answers an HTTP
    /// request (method, path) on the peer port (`PeerHTTPSniffer`).
    init(group: EventLoopGroup, tls: TLSServerSide?, logger: Logger, admit: @escaping @Sendable (PeerHello) -> String?,
         deliver: @escaping @Sendable ([Message]) -> Void,
         control: @escaping @Sendable (UInt64, PeerFrame) -> Void,
         members: @escaping @Sendable () -> ClusterPeerFrame,
         http: @escaping @Sendable (String, String) -> PeerHTTPAnswer = { _, _ in .notFound },
         snapshots: SnapshotSink, settings: PeerSettings = PeerSettings()) {
        self.settings = settings
        self.http = http
        self.group = group
        self.tls = tls
        self.logger = logger
        self.admit = admit
        self.deliver = deliver
        self.control = control
        self.members = members
        self.snapshots = snapshots
    }

    /// Binds and returns the bound port.
    func start(host: String, port: Int) async throws -> Int {
        let logger = self.logger, admit = self.admit, deliver = self.deliver, control = self.control
        let members = self.members, http = self.http
        let snapshots = self.snapshots
        let tls = self.tls
        let limiter = ConnectionLimiter.processWide
        let timeouts = settings.timeouts
        let refusalLog = self.refusalLog
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)),
                                 value: settings.reusePort ? 1 : 0)
            .serverChannelInitializer(ConnectionLimiter.installAcceptBackoff)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard limiter.admit(channel, listener: "peer", logger: logger) else { return channel.close() }
                let frames = {
                    try channel.pipeline.syncOperations.addHandler(PeerHTTPSniffer(answer: http))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(firstFrameMaxBytes: PeerFrameDecoder.helloMaxBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        PeerInboundHandler(logger: logger, refusalLog: refusalLog, admit: admit, deliver: deliver,
                                           control: control, members: members, snapshots: snapshots))
                }
                // rafthttp's deadlines sit next to the socket, under TLS.
                let deadlines = channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PeerTimeoutHandler(readTimeout: timeouts.read, writeTimeout: timeouts.write, logger: logger))
                }
                guard let tls else { return deadlines.flatMapThrowing(frames) }
                return deadlines.flatMap { tls.initialize(channel) }.flatMapThrowing(frames)
            }
            .bind(host: host, port: port).get()
        self.channel = channel
        return channel.localAddress?.port ?? port
    }

    func stop() async {
        try? await channel?.close()
    }
}

/// One inbound peer connection: hello first, then Raft messages (or one
/// snapshot transfer).
private final class PeerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private let refusalLog: LogRateLimiter
    private let admit: @Sendable (PeerHello) -> String?
    private let deliver: @Sendable ([Message]) -> Void
    private let control: @Sendable (UInt64, PeerFrame) -> Void
    private let members: @Sendable () -> ClusterPeerFrame
    private let snapshots: SnapshotSink
    private var remoteID: UInt64?
    private var batch: [Message] = []
    private var receiver: SnapshotReceiver?
    /// Closes a connection whose first frame (hello or members request) has
    /// not come whole in time: a stranger trickling bytes (1 a second keeps
    /// the read timeout away) would hold one of the process's connection
    /// slots, which the client port shares, for as long as it likes.
    private var firstFrameDeadline: Scheduled<Void>?
    static let firstFrameTimeout = TimeAmount.seconds(10)

    init(logger: Logger, refusalLog: LogRateLimiter, admit: @escaping @Sendable (PeerHello) -> String?,
         deliver: @escaping @Sendable ([Message]) -> Void, control: @escaping @Sendable (UInt64, PeerFrame) -> Void,
         members: @escaping @Sendable () -> ClusterPeerFrame, snapshots: SnapshotSink) {
        self.logger = logger
        self.refusalLog = refusalLog
        self.admit = admit
        self.deliver = deliver
        self.control = control
        self.members = members
        self.snapshots = snapshots
    }

    func handlerAdded(context: ChannelHandlerContext) {
        firstFrameDeadline = context.eventLoop.scheduleTask(in: Self.firstFrameTimeout) { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        firstFrameDeadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        firstFrameDeadline?.cancel()
        firstFrameDeadline = nil
        let frame = unwrapInboundIn(data)
        switch frame {
        case .hello(let hello):
            if let reason = admit(hello) {
                if let held = refusalLog.admit("\(hello.fromID) \(reason)") {
                    logger.error("refusing peer connection", metadata: [
                        "remote-peer-id": "\(String(hello.fromID, radix: 16))",
                        "remote-address": "\(context.remoteAddress.map { "\($0)" } ?? "?")", "reason": "\(reason)",
                        "suppressed": "\(held)"])
                }
                var buffer = context.channel.allocator.buffer(capacity: reason.utf8.count + 5)
                PeerFrame.helloRejected(reason).write(into: &buffer)
                context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
                return
            }
            remoteID = hello.fromID
        case .message(let bytes):
            guard let remoteID else { context.close(promise: nil); return }
            // A MsgSnap comes only on a snapshot connection, with its
            // database: one without would make the Raft loop install a
            // snapshot it has no file for (a fatal error).
            guard let m = try? Message(decoding: bytes), m.from == remoteID, m.type != .snap else {
                if let held = refusalLog.admit("undecodable \(remoteID)") {
                    logger.warning("dropping an undecodable peer message", metadata: [
                        "remote-peer-id": "\(String(remoteID, radix: 16))", "suppressed": "\(held)"])
                }
                return
            }
            batch.append(m)
        case .helloRejected:
            context.close(promise: nil)
        case .cluster(.membersRequest) where remoteID == nil:
            // A joining member asking who is in the cluster: answer, then close.
            var buffer = context.channel.allocator.buffer(capacity: 512)
            PeerFrame.cluster(members()).write(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
        case .leaseRequest, .leaseAnswer, .cluster, .ping, .pong, .hashRequest, .hashAnswer:
            guard let remoteID else { context.close(promise: nil); return }
            control(remoteID, frame)
        case .snapshot(let snapshotFrame):
            guard let remoteID else { context.close(promise: nil); return }
            if receiver == nil { receiver = SnapshotReceiver(remoteID: remoteID, sink: snapshots, logger: logger) }
            receiver!.handle(snapshotFrame, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        receiver?.abandon()
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !batch.isEmpty {
            deliver(batch)
            batch.removeAll(keepingCapacity: true)
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let held = refusalLog.admit("error \(error)") {
            logger.warning("peer connection error", metadata: ["error": "\(error)", "suppressed": "\(held)"])
        }
        context.close(promise: nil)
    }
}
