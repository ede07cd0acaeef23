import NIOCore

/// One gRPC call on a connection: the pure state machine plus the I/O state
/// the connection needs to execute its actions.
///
/// Confined to the connection's event loop; `GRPCResponseWriter` and
/// `GRPCRequestStream` reach it only by hopping there first.
final class ServerStream: @unchecked Sendable {
    let id: Int32
    var machine: GRPCStreamStateMachine
    var handler: GRPCRouter.Handler?
    /// The unary method's synchronous form, tried before a task is made;
    /// a bidi method's, tried per request message (`GRPCRouter.Inline`).
    var inline: GRPCRouter.Inline?
    /// A bidi call's context, for its inline form.
    var context: GRPCRequestContext?
    /// The unary method's callback form (`GRPCRouter.Callback`).
    var callback: GRPCRouter.Callback?
    var task: Task<Void, Never>?
    /// The answer a callback form took, until it comes (the call runs without a task).
    var reply: GRPCUnaryReply?
    /// When the call's `grpc-timeout` runs out, counted from its headers (as grpc-go).
    var deadline: NIODeadline?
    /// nghttp2 has closed the stream (reset, or both sides ended); nothing more may be submitted.
    var closed = false
    /// Metrics hooks for this call's method; `handled` is reported once, then this is nil.
    var probe: (any GRPCMethodProbe)?
    var probeStartedNanos: UInt64 = 0

    // Outbound: framed response bytes not yet taken by nghttp2's DATA provider.
    var outbound: [UInt8] = []
    var outboundIndex = 0
    /// The DATA provider returned NGHTTP2_ERR_DEFERRED and needs `resume_data`.
    var dataDeferred = false
    /// A `send` suspended because `pendingOutboundBytes` exceeded the high-water mark.
    var writeWaiter: CheckedContinuation<Void, any Error>?

    // Inbound, for bidi calls: a reader waiting for the next message.
    var readWaiter: CheckedContinuation<[UInt8]?, any Error>?
    /// Set when the request side failed (e.g. a too-large message): readers throw it.
    var requestFailure: GRPCStatus?

    // Flow control (see H2ConnectionHandler+FlowControl): request bytes this
    // stream holds, and how many of them have not been given back as window.
    var heldBytes = 0
    var unconsumedBytes = 0
    /// Counted in the connection's `headerBytes`.
    var headerBytes = 0
    /// Counted in the connection's running unary calls (see H2ConnectionHandler+Admission).
    var countedRunning = false
    /// Request bytes it holds of the server-wide request budget while counted.
    var countedRequestBytes = 0

    init(id: Int32, machine: GRPCStreamStateMachine) {
        self.id = id
        self.machine = machine
    }

    var pendingOutboundBytes: Int { outbound.count - outboundIndex }

    /// Reports the call's final status to its probe, once.
    func reportHandled(_ code: GRPCStatus.Code) {
        guard let p = probe else { return }
        probe = nil
        p.handled(code, startedNanos: probeStartedNanos)
    }

    /// Appends a framed message to the outbound buffer.
    func enqueue(_ message: [UInt8]) {
        makeRoomForMore()
        GRPCMessageDeframer.frame(message, into: &outbound)
    }

    /// `enqueue` of a message already framed (`GRPCMessageDeframer.writeHeader`):
    /// a large one becomes the outbound buffer when nothing is waiting in
    /// it, instead of being copied there.
    func enqueue(framed message: [UInt8]) {
        if outboundIndex == outbound.count && message.count >= 16 << 10 {
            outbound = message
            outboundIndex = 0
            return
        }
        makeRoomForMore()
        outbound.append(contentsOf: message)
    }

    private func makeRoomForMore() {
        if outboundIndex == outbound.count {
            outbound.removeAll(keepingCapacity: true)
            outboundIndex = 0
        } else if outboundIndex >= 64 << 10 && outboundIndex >= outbound.count / 2 {
            // A stream never fully drained (a client that reads as fast as we
            // write) must not grow the buffer by everything it ever sent:
            // dropping the sent half costs at most the bytes appended since.
            outbound.removeSubrange(0..<outboundIndex)
            outboundIndex = 0
        }
    }

    /// Copies up to `length` outbound bytes into `buf`; returns the count.
    func drain(into buf: UnsafeMutablePointer<UInt8>, length: Int) -> Int {
        let n = min(length, pendingOutboundBytes)
        if n > 0 {
            outbound.withUnsafeBufferPointer { src in
                buf.update(from: src.baseAddress! + outboundIndex, count: n)
            }
            outboundIndex += n
            if outboundIndex == outbound.count {
                if outbound.capacity > 1 << 20 {
                    outbound = []  // do not keep a large buffer for a long-lived stream
                } else {
                    outbound.removeAll(keepingCapacity: true)
                }
                outboundIndex = 0
            }
        }
        return n
    }

    /// Wakes suspended readers and writers with `error` (stream gone or call over).
    func failWaiters(_ error: any Error) {
        if let w = writeWaiter {
            writeWaiter = nil
            w.resume(throwing: error)
        }
        if let r = readWaiter {
            readWaiter = nil
            r.resume(throwing: error)
        }
    }
}
