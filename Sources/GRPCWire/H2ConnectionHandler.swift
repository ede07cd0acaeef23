import CNGHTTP2
import Logging
import NIOCore

/// Serves gRPC on one HTTP/2 connection through an nghttp2 server session.
///
/// Bytes in: `channelRead` feeds `nghttp2_session_mem_recv`; its callbacks
/// (H2ConnectionHandler+Callbacks) drive the per-stream state machines.
/// Bytes out: `flushOutput` drains `nghttp2_session_mem_send` into one buffer
/// per batch, at the end of each read batch or once per loop tick after a
/// handler produced output. When the socket stops being writable we stop both
/// producing output and reading input, so a client that never reads cannot
/// make us buffer without bound.
///
/// Confined to its channel's event loop (not Sendable).
final class H2ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let config: GRPCServerConfig
    let router: GRPCRouter
    var logger: Logger

    var session: OpaquePointer?
    var context: ChannelHandlerContext?
    var loop: EventLoop!
    var executor: EventLoopTaskExecutor?
    var remoteAddress: SocketAddress?
    /// Established under HTTP/2 (TLS client certificate); copied into every call's context.
    let identity: GRPCConnectionIdentity
    var streams: [Int32: ServerStream] = [:]
    /// The stream whose header block is arriving (the last opened), so each
    /// of its headers finds it without a dictionary lookup; nil once its
    /// headers ended or it closed.
    var openingStream: ServerStream?
    /// Header strings this connection repeats, shared rather than copied per call.
    var headerStrings = HeaderStrings()

    /// True while `mem_recv` runs: output is flushed at channelReadComplete.
    var inReadBatch = false
    var flushScheduled = false
    /// A read batch started a call's task: its flush waits until that task's
    /// first run (see `channelReadComplete`).
    var callStartedInReadBatch = false
    /// A read batch started a callback-form call (answered later) and asked
    /// for no output of its own: what it made nghttp2 queue (PING ACK,
    /// WINDOW_UPDATE) may wait for that answer (see `holdControlFrames`).
    var callbackStartedInReadBatch = false
    var outputWantedInReadBatch = false
    /// Flushes held control frames once `config.controlFrameHold` has
    /// passed; cancelled when they leave with other output. (A timer left
    /// armed for the next hold instead cost more: while any task is
    /// scheduled, NIO re-arms its timerfd on about every loop turn.)
    var heldOutputTimer: Scheduled<Void>?
    /// See `takeOutputBuffer`.
    var outputBuffer: ByteBuffer?
    /// A `read` was held back because the channel is not writable.
    var pendingRead = false
    /// Close the channel once the queued output (e.g. a GOAWAY) is written.
    var closeAfterFlush = false
    var draining = false
    /// While draining: checks that the client still takes its answers.
    var drainTimer: Scheduled<Void>?
    /// Bytes handed to the socket so far, for `DrainProgress`.
    var bytesWritten = 0

    var keepalive: KeepaliveEnforcer
    var lastReadTime: NIODeadline = .now()
    var keepaliveTimer: Scheduled<Void>?
    var pingTimeoutTimer: Scheduled<Void>?
    /// Calls' deadlines and the one timer armed for the earliest (see +Deadlines).
    var deadlines = DeadlineQueue()
    var deadlineTimer: Scheduled<Void>?
    var deadlineTimerFiresAt: NIODeadline?

    /// Request bytes held by all streams (see +FlowControl).
    var bufferedBytes = 0
    var starvedStreams: Set<Int32> = []

    // Send-side bound (see +Admission).
    var queuedResponseBytes = 0
    var runningUnaryCalls = 0
    /// Unary calls whose request is complete, waiting to start; `parkedHead` is the next.
    var parkedCalls: [ServerStream] = []
    var parkedHead = 0
    /// A `startParked` is queued on the loop (see `scheduleStartParked`).
    var startParkedScheduled = false
    /// Registered with the server-wide budget for a wake-up (see +Admission).
    var waitingForServerWideRoom = false
    /// The connection once held a large response backlog or many header
    /// bytes: when it is gone, give the freed memory back to the OS (`MemoryTrim`).
    var heldMuchMemory = false
    /// Header bytes (RFC 7540 §6.5.2 accounting) its open streams hold.
    var headerBytes = 0

    init(config: GRPCServerConfig, router: GRPCRouter, logger: Logger,
         identity: GRPCConnectionIdentity = GRPCConnectionIdentity()) {
        self.config = config
        self.identity = identity
        self.router = router
        self.logger = logger
        self.keepalive = KeepaliveEnforcer(minTime: config.keepaliveMinTime,
                                           permitWithoutStream: config.keepalivePermitWithoutStream)
    }

    deinit {
        if let session { nghttp2_session_del(session) }
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.loop = context.eventLoop
        self.remoteAddress = context.channel.remoteAddress
        if config.runHandlersOnEventLoop { executor = EventLoopTaskExecutor(context.eventLoop) }
        var limits = cng_limits(
            max_outbound_ack: config.maxOutboundAcks,
            max_settings: 32,
            reset_burst: config.resetBurst,
            reset_rate_per_sec: config.resetRatePerSecond,
            max_continuations: 8,
            max_send_header_block: 64 * 1024,
            no_auto_window_update: 1)
        var s: OpaquePointer?
        let rv = cng_session_new(&s, 1, H2Callbacks.server, Unmanaged.passUnretained(self).toOpaque(), &limits)
        guard rv == 0, let s else {
            logger.error("nghttp2 session creation failed", metadata: ["rv": "\(rv)"])
            context.close(promise: nil)
            return
        }
        session = s
        _ = cng_submit_server_settings(s, config.maxConcurrentStreams, config.initialStreamWindowBytes,
                                       config.maxHeaderListBytes)
        _ = nghttp2_session_set_local_window_size(s, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                                  config.connectionWindowBytes)
        scheduleKeepalive(after: config.keepaliveInterval)
        if context.channel.isActive { flushOutput() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flushOutput()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    /// Cancels every call and frees the session; later callbacks and handler
    /// completions find `session == nil` and do nothing.
    func tearDown() {
        keepaliveTimer?.cancel()
        pingTimeoutTimer?.cancel()
        drainTimer?.cancel()
        heldOutputTimer?.cancel()
        heldOutputTimer = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
        deadlines = DeadlineQueue()
        let all = streams
        streams.removeAll()
        openingStream = nil
        parkedCalls.removeAll()
        parkedHead = 0
        for stream in all.values { abandon(stream) }
        if let session {
            self.session = nil
            nghttp2_session_del(session)
            if heldMuchMemory && runningUnaryCalls == 0 { MemoryTrim.request(on: loop) }
        }
    }

    // MARK: input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session else { return }
        let buffer = unwrapInboundIn(data)
        lastReadTime = .now()
        inReadBatch = true
        let rv = buffer.withUnsafeReadableBytes { bytes -> cng_ssize in
            guard let base = bytes.baseAddress else { return 0 }
            return cng_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        inReadBatch = false
        if rv < 0 {
            // nghttp2 queued a GOAWAY where the protocol asks for one (flood, bad preface, ...).
            logger.debug("closing HTTP/2 connection", metadata: [
                "error": "\(String(cString: nghttp2_strerror(Int32(rv))))",
                "remote": "\(remoteAddress.map { "\($0)" } ?? "?")",
            ])
            closeAfterFlush = true
            flushOutput()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let holdable = callbackStartedInReadBatch && !outputWantedInReadBatch
        callbackStartedInReadBatch = false
        outputWantedInReadBatch = false
        if callStartedInReadBatch {
            // The calls' tasks are queued on this loop: flush after them, so
            // a put reaches Raft before the batch's other output (grpc-go's
            // ping ACKs, window updates) is written, not one socket write
            // later; the output leaves in the same loop tick either way.
            callStartedInReadBatch = false
            scheduleFlush()
        } else if holdable {
            holdControlFrames()
        } else {
            flushOutput()
        }
        context.fireChannelReadComplete()
    }

    /// grpc-go's client sends a BDP PING (and a WINDOW_UPDATE) with the
    /// request that follows each answer. Acknowledged at once, the ACK is a
    /// write of its own and wakes the client for nothing while its call is
    /// still running; held, it leaves in front of the answer, in one write
    /// (RFC 9113 §6.7 asks only that it be sent, with the same payload; it
    /// still precedes every later frame). Whatever flushes next takes it
    /// along, and the timer bounds the wait, so a keepalive PING is never
    /// held behind a slow call.
    private func holdControlFrames() {
        guard let session, config.controlFrameHold > .zero, !closeAfterFlush, !draining else {
            flushOutput()
            return
        }
        guard heldOutputTimer == nil, nghttp2_session_want_write(session) != 0 else { return }
        heldOutputTimer = loop.scheduleTask(in: config.controlFrameHold) { [self] in  // strong: see scheduleKeepalive
            heldOutputTimer = nil
            flushOutput()
        }
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            flushOutput()
            if pendingRead && context.channel.isWritable {
                pendingRead = false
                context.read()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("HTTP/2 connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: output

    /// Drains nghttp2's output now, or at the end of the current read batch.
    func scheduleFlush() {
        if inReadBatch {
            outputWantedInReadBatch = true
            return
        }
        if flushScheduled { return }
        flushScheduled = true
        loop.execute {
            self.flushScheduled = false
            self.flushOutput()
        }
    }

    static let writeBatchBytes = 256 * 1024
    /// Output buffers up to this capacity are kept for the next flush.
    static let keptBufferBytes = 16 * 1024

    /// The buffer of the previous flush, for reuse: once the socket has taken
    /// its bytes ours is the only reference and `clear()` keeps its memory, so
    /// a connection answering one call per loop tick does not malloc and free
    /// a ≥ 4 KiB buffer each time (which also made glibc consolidate its fast
    /// bins on every such malloc).
    private func takeOutputBuffer(_ context: ChannelHandlerContext) -> ByteBuffer {
        guard var buffer = outputBuffer else { return context.channel.allocator.buffer(capacity: 4096) }
        outputBuffer = nil
        buffer.clear()  // allocates afresh only while a write still holds the old bytes
        return buffer
    }

    func flushOutput() {
        if let held = heldOutputTimer {
            held.cancel()
            heldOutputTimer = nil
        }
        guard let session, let context, context.channel.isActive else { return }
        guard context.channel.isWritable else {
            // Backed up: nghttp2 keeps its frames (bounded: we stop reading too,
            // and its ACK queue is capped) until channelWritabilityChanged.
            if closeAfterFlush { context.close(promise: nil) }
            return
        }
        var buffer: ByteBuffer?
        var wrote = false
        while true {
            var data: UnsafePointer<UInt8>?
            let n = cng_session_mem_send(session, &data)
            if n < 0 {
                logger.debug("nghttp2 send failed", metadata: ["rv": "\(n)"])
                closeAfterFlush = true
                break
            }
            guard n > 0, let data else { break }
            if buffer == nil { buffer = takeOutputBuffer(context) }
            buffer!.writeBytes(UnsafeRawBufferPointer(start: data, count: n))
            if buffer!.readableBytes >= Self.writeBatchBytes {
                bytesWritten += buffer!.readableBytes
                context.write(wrapOutboundOut(buffer!), promise: nil)
                buffer = nil
                wrote = true
                // The socket is backed up: leave the rest inside nghttp2 (and
                // the streams' bounded buffers) until writability returns.
                if !context.channel.isWritable { break }
            }
        }
        if let buffer {
            bytesWritten += buffer.readableBytes
            context.write(wrapOutboundOut(buffer), promise: nil)
            wrote = true
            if buffer.capacity <= Self.keptBufferBytes { outputBuffer = buffer }
        }
        let finished = closeAfterFlush
            || (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0)
        if wrote {
            if finished {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.flush()
            }
        } else if finished {
            context.close(promise: nil)
        }
    }

    // MARK: shutdown and keepalive

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is GRPCServer.GracefulShutdownEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        beginGracefulShutdown()
        promise?.succeed(())
    }

    /// GOAWAY naming the last stream we took; in-flight calls finish, then the connection closes.
    func beginGracefulShutdown() {
        guard let session, !draining else { return }
        draining = true
        let last = nghttp2_session_get_last_proc_stream_id(session)
        _ = nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last,
                                  NGHTTP2_NO_ERROR.rawValue, nil, 0)
        flushOutput()
        watchDrain(drainProgress)
    }

    var drainProgress: DrainProgress {
        let backlog = (try? context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        return DrainProgress(lastRead: lastReadTime, bytesWritten: bytesWritten, socketBacklog: backlog)
    }

    /// Closes the draining connection when `DrainProgress` says its client
    /// has stalled with nothing left to run; otherwise looks again later.
    func watchDrain(_ previous: DrainProgress) {
        drainTimer = loop.scheduleTask(in: config.drainStallTimeout) { [self] in  // strong: see scheduleKeepalive
            guard session != nil else { return }
            let now = drainProgress
            // A handler suspended in a send waits for this client to read, as
            // its unsent answer does (a watch stream's, when it stopped reading).
            let waitingOnClient = streams.values.allSatisfy { $0.machine.responseFinished || $0.writeWaiter != nil }
            if now.stalled(since: previous, onlyTheClientCanMoveOn: waitingOnClient) {
                logger.debug("closing a draining connection whose client stopped taking its answers")
                context?.close(promise: nil)
            } else {
                watchDrain(now)
            }
        }
    }

    /// The timers hold the handler strongly, never weakly: a weak reference
    /// gives an object a side table for good, and then every retain and
    /// release of the handler (several per call) takes the runtime's slow
    /// path. The loop drops a timer's closure when it fires or is cancelled
    /// (`tearDown`), which releases the handler; a timer that fires after
    /// `tearDown` finds no session and does nothing.
    func scheduleKeepalive(after delay: TimeAmount) {
        keepaliveTimer = loop.scheduleTask(in: delay) { [self] in keepaliveTick() }
    }

    /// grpc-go server keepalive: after `keepaliveInterval` without reads, ping;
    /// if nothing arrives within `keepaliveTimeout`, close.
    func keepaliveTick() {
        guard let session else { return }
        let idle = NIODeadline.now() - lastReadTime
        if idle < config.keepaliveInterval {
            scheduleKeepalive(after: config.keepaliveInterval - idle)
            return
        }
        _ = nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
        flushOutput()
        let pingSentAt = NIODeadline.now()
        pingTimeoutTimer = loop.scheduleTask(in: config.keepaliveTimeout) { [self] in  // strong: see scheduleKeepalive
            guard self.session != nil else { return }
            if self.lastReadTime < pingSentAt {
                self.logger.debug("keepalive ping not answered; closing connection")
                self.context?.close(promise: nil)
            } else {
                self.scheduleKeepalive(after: self.config.keepaliveInterval)
            }
        }
    }

    /// Ping flood: GOAWAY ENHANCE_YOUR_CALM "too_many_pings" (what grpc-go sends) and close.
    func goAwayTooManyPings() {
        guard let session else { return }
        let debug = Array("too_many_pings".utf8)
        let last = nghttp2_session_get_last_proc_stream_id(session)
        _ = debug.withUnsafeBufferPointer {
            nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last,
                                  NGHTTP2_ENHANCE_YOUR_CALM.rawValue, $0.baseAddress, $0.count)
        }
        closeAfterFlush = true
        scheduleFlush()
    }
}
