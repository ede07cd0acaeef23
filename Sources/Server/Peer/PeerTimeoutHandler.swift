import Config
import Logging
import NIOCore

/// rafthttp's per-connection deadlines (`--raft-read-timeout`,
/// `--raft-write-timeout`, at least 5 s each):
/// - read: a connection that received nothing for `readTimeout` is closed
///   (peers ping every 2 s, so only a dead or wedged peer goes quiet);
/// - write: a connection whose writes have been stuck (the channel not
///   writable: the peer stopped reading) for `writeTimeout` is closed.
/// A closed outbound connection reconnects with backoff, as etcd's streams do.
final class PeerTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let readTimeout: TimeAmount?
    private let writeTimeout: TimeAmount?
    private let logger: Logger
    /// On the channel's event loop clock (`eventLoop.now`).
    private var lastRead = NIODeadline.uptimeNanoseconds(0)
    private var readCheck: Scheduled<Void>?
    private var stuckWrite: Scheduled<Void>?
    /// Set by `StopReadTimeout`: no read check is scheduled any more.
    private var readTimeoutStopped = false

    /// nil disables a check (an outbound connection reads almost nothing).
    init(readTimeout: TimeAmount?, writeTimeout: TimeAmount?, logger: Logger) {
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastRead = context.eventLoop.now
        if context.channel.isActive { scheduleReadCheck(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        lastRead = context.eventLoop.now
        scheduleReadCheck(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        readCheck?.cancel()
        stuckWrite?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        context.fireChannelRead(data)
    }

    /// Sent down the pipeline (`triggerUserOutboundEvent`) by a handler that
    /// expects nothing more from the peer before it answers, and may take
    /// longer than the read timeout to do so: a received snapshot's fsync.
    /// The peer waits for that answer under its own deadline.
    struct StopReadTimeout {}

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is StopReadTimeout else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        readTimeoutStopped = true
        readCheck?.cancel()
        readCheck = nil
        promise?.succeed(())
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let writeTimeout {
            if context.channel.isWritable {
                stuckWrite?.cancel()
                stuckWrite = nil
            } else if stuckWrite == nil {
                stuckWrite = context.eventLoop.scheduleTask(in: writeTimeout) { [self] in
                    close(context, "write tcp: i/o timeout (--raft-write-timeout \(writeTimeout))")
                }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func scheduleReadCheck(_ context: ChannelHandlerContext) {
        guard let readTimeout, readCheck == nil, !readTimeoutStopped else { return }
        readCheck = context.eventLoop.scheduleTask(deadline: lastRead + readTimeout) { [self] in
            readCheck = nil
            if context.eventLoop.now - lastRead >= readTimeout {
                close(context, "read tcp: i/o timeout (--raft-read-timeout \(readTimeout))")
            } else {
                scheduleReadCheck(context)
            }
        }
    }

    private func close(_ context: ChannelHandlerContext, _ error: String) {
        logger.warning("lost TCP streaming connection with remote peer", metadata: [
            "remote-address": .string(context.remoteAddress.map { "\($0)" } ?? "?"), "error": .string(error)])
        context.close(promise: nil)
    }
}

/// How the peer layer listens and times out, from the options.
struct PeerSettings: Sendable {
    var timeouts = PeerTimeouts()
    /// `--socket-reuse-port` on the peer listener.
    var reusePort = false
}

/// The two deadlines, as the peer layer takes them from the options.
struct PeerTimeouts: Sendable {
    var read: TimeAmount = .seconds(5)
    var write: TimeAmount = .seconds(5)

    init() {}

    init(read: Duration, write: Duration) {
        self.read = .nanoseconds(GoDuration.nanoseconds(read))
        self.write = .nanoseconds(GoDuration.nanoseconds(write))
    }
}
