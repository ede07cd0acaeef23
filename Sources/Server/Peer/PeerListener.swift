import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft

/// Accepts peer connections on `--listen-peer-urls`: checks each sender's
/// hello (same cluster, addressed to this member, a known member) and hands
/// its Raft messages to `deliver`, one batch per socket read.
final class PeerListener: @unchecked Sendable {
    private let group: EventLoopGroup
    private let logger: Logger
    private let admit: @Sendable (PeerHello) -> String?
    private let deliver: @Sendable ([Message]) -> Void
    private let control: @Sendable (UInt64, PeerFrame) -> Void
    private var channel: Channel?

    /// `admit` returns nil to accept a hello, or the reason to refuse it;
    /// `control` gets the admitted sender's non-Raft frames (lease forwarding).
    init(group: EventLoopGroup, logger: Logger, admit: @escaping @Sendable (PeerHello) -> String?,
         deliver: @escaping @Sendable ([Message]) -> Void,
         control: @escaping @Sendable (UInt64, PeerFrame) -> Void) {
        self.group = group
        self.logger = logger
        self.admit = admit
        self.deliver = deliver
        self.control = control
    }

    /// Binds and returns the bound port.
    func start(host: String, port: Int) async throws -> Int {
        let logger = self.logger, admit = self.admit, deliver = self.deliver, control = self.control
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        PeerInboundHandler(logger: logger, admit: admit, deliver: deliver, control: control))
                }
            }
            .bind(host: host, port: port).get()
        self.channel = channel
        return channel.localAddress?.port ?? port
    }

    func stop() async {
        try? await channel?.close()
    }
}

/// One inbound peer connection: hello first, then Raft messages.
private final class PeerInboundHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private let admit: @Sendable (PeerHello) -> String?
    private let deliver: @Sendable ([Message]) -> Void
    private let control: @Sendable (UInt64, PeerFrame) -> Void
    private var remoteID: UInt64?
    private var batch: [Message] = []

    init(logger: Logger, admit: @escaping @Sendable (PeerHello) -> String?,
         deliver: @escaping @Sendable ([Message]) -> Void, control: @escaping @Sendable (UInt64, PeerFrame) -> Void) {
        self.logger = logger
        self.admit = admit
        self.deliver = deliver
        self.control = control
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame {
        case .hello(let hello):
            if let reason = admit(hello) {
                logger.error("refusing peer connection", metadata: [
                    "remote-peer-id": "\(String(hello.fromID, radix: 16))",
                    "remote-address": "\(context.remoteAddress.map { "\($0)" } ?? "?")", "reason": "\(reason)"])
                var buffer = context.channel.allocator.buffer(capacity: reason.utf8.count + 5)
                PeerFrame.helloRejected(reason).write(into: &buffer)
                context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
                return
            }
            remoteID = hello.fromID
        case .message(let bytes):
            guard let remoteID else { context.close(promise: nil); return }
            guard let m = try? Message(decoding: bytes), m.from == remoteID else {
                logger.warning("dropping an undecodable peer message", metadata: ["remote-peer-id": "\(String(remoteID, radix: 16))"])
                return
            }
            batch.append(m)
        case .helloRejected:
            context.close(promise: nil)
        case .leaseRequest, .leaseAnswer, .ping, .pong, .hashRequest, .hashAnswer:
            guard let remoteID else { context.close(promise: nil); return }
            control(remoteID, frame)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !batch.isEmpty {
            deliver(batch)
            batch.removeAll(keepingCapacity: true)
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.warning("peer connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
