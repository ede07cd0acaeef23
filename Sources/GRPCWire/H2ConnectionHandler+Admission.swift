import NIOCore

/// Send-side bound for a peer that does not read. HTTP/2 flow control stops
/// DATA at the peer's window, but a unary call's whole response is built and
/// queued before it is cut into frames, so a connection that sends many calls
/// and never reads would have us hold every answer. Unary calls therefore
/// start only while the connection holds fewer than
/// `maxQueuedResponseBytes` unsent response bytes and runs fewer than
/// `maxRunningUnaryCalls`; a call whose request is complete otherwise waits,
/// in arrival order, holding only its request (itself bounded by receive flow
/// control). We keep reading the socket: the peer's WINDOW_UPDATEs are what
/// drain the queue.
///
/// Invariant: `queuedResponseBytes` is the sum of `pendingOutboundBytes` over
/// this connection's open streams (added in `noteQueued`, taken off in
/// `noteDrained` and when a stream is dropped).
extension H2ConnectionHandler {
    var mayStartUnaryCall: Bool {
        queuedResponseBytes < config.maxQueuedResponseBytes && runningUnaryCalls < config.maxRunningUnaryCalls
    }

    /// Whether `stream`'s method is counted and held back (see `admissionExemptPathPrefixes`).
    func isAdmissionCounted(_ stream: ServerStream) -> Bool {
        guard case .unary = stream.handler else { return false }
        let path = stream.machine.path
        return !config.admissionExemptPathPrefixes.contains { path.hasPrefix($0) }
    }

    /// Starts a call whose request is complete, or queues it behind the others.
    func admitOrPark(_ stream: ServerStream) {
        guard isAdmissionCounted(stream) else {
            startCall(stream)
            return
        }
        if parkedCalls.count == parkedHead && mayStartUnaryCall {
            startCounted(stream)
        } else {
            parkedCalls.append(stream)
        }
    }

    private func startCounted(_ stream: ServerStream) {
        runningUnaryCalls += 1
        stream.countedRunning = true
        startCall(stream)
        // The call may have ended at once (deadline past, bad request); not
        // through `callEnded`, which would recurse into `startParked`.
        if stream.task == nil {
            stream.countedRunning = false
            runningUnaryCalls -= 1
        }
    }

    /// A counted call's handler returned (on the loop; the connection may be gone).
    func callEnded(_ stream: ServerStream) {
        guard stream.countedRunning else { return }
        stream.countedRunning = false
        runningUnaryCalls -= 1
        if session == nil {
            if runningUnaryCalls == 0 && heldMuchMemory { MemoryTrim.request() }
            return
        }
        startParked()
    }

    /// Starts waiting calls while the bounds allow; skips ones that ended meanwhile (deadline, reset).
    func startParked() {
        while parkedHead < parkedCalls.count && mayStartUnaryCall {
            let stream = parkedCalls[parkedHead]
            parkedHead += 1
            if stream.closed || stream.machine.isFinished || streams[stream.id] !== stream { continue }
            startCounted(stream)
        }
        if parkedHead == parkedCalls.count {
            parkedCalls.removeAll(keepingCapacity: parkedCalls.count <= 1024)
            parkedHead = 0
        } else if parkedHead > 1024 && parkedHead * 2 > parkedCalls.count {
            parkedCalls.removeFirst(parkedHead)
            parkedHead = 0
        }
    }

    func noteQueued(_ bytes: Int) {
        queuedResponseBytes += bytes
        if queuedResponseBytes > 1 << 20 { heldMuchMemory = true }
    }

    /// nghttp2 took `bytes` of a stream's response; start waiting calls once below the bound
    /// (from a later loop turn: this runs inside nghttp2's send).
    func noteDrained(_ bytes: Int) {
        let wasBlocked = queuedResponseBytes >= config.maxQueuedResponseBytes
        queuedResponseBytes -= bytes
        if wasBlocked && parkedHead < parkedCalls.count && mayStartUnaryCall {
            loop.execute { [self] in if session != nil { startParked() } }
        }
    }

    /// A stream closed (its unsent bytes were dropped, a counted call may be
    /// gone): start waiting calls the bounds now allow, from a later loop turn
    /// (this runs inside nghttp2's callbacks).
    func scheduleStartParked() {
        guard parkedHead < parkedCalls.count, mayStartUnaryCall else { return }
        loop.execute { [self] in if session != nil { startParked() } }
    }

    /// Frees a dropped stream's unsent response now (a task or writer may keep the stream object).
    func dropOutbound(_ stream: ServerStream) {
        let pending = stream.pendingOutboundBytes
        guard pending > 0 || stream.outbound.capacity > 0 else { return }
        queuedResponseBytes -= pending
        stream.outbound = []
        stream.outboundIndex = 0
    }
}
