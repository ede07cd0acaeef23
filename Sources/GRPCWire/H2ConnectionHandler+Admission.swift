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
/// The same bytes count in the server-wide `config.responseBudget`, and the
/// request bytes of running counted calls in `config.requestBudget`: while
/// either is full, a connection starts a unary call only when it has nothing
/// queued and nothing running (so one slow or greedy client never starves
/// the others), and a stream with bytes queued waits before sending more
/// (`mustWaitToSend`).
///
/// Invariants: `queuedResponseBytes` is the sum of `pendingOutboundBytes` over
/// this connection's open streams (added in `noteQueued`, taken off in
/// `noteDrained` and when a stream is dropped), and is what this connection
/// holds of `config.responseBudget`; what it holds of `config.requestBudget`
/// is the sum of `countedRequestBytes` over its counted running calls.
extension H2ConnectionHandler {
    var mayStartUnaryCall: Bool {
        guard queuedResponseBytes < config.maxQueuedResponseBytes,
              runningUnaryCalls < config.maxRunningUnaryCalls else { return false }
        return (queuedResponseBytes == 0 && runningUnaryCalls == 0) || fullServerWideBudget == nil
    }

    /// The first server-wide budget that is full, if any.
    private var fullServerWideBudget: ByteBudget? {
        if config.responseBudget.isFull { return config.responseBudget }
        if config.requestBudget.isFull { return config.requestBudget }
        return nil
    }

    /// A streamed `send` suspends: its stream passed the high-water mark, or
    /// holds bytes while the server-wide budget is full.
    func mustWaitToSend(_ stream: ServerStream) -> Bool {
        let pending = stream.pendingOutboundBytes
        return pending > config.streamSendHighWaterBytes || (pending > 0 && config.responseBudget.isFull)
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
            waitForServerWideRoom()
        }
    }

    /// Calls wait only because a server-wide budget is full: have it wake
    /// us (once) when another connection's bytes leave (`startParked` then
    /// registers with the other one if that is full too). Waits on this
    /// connection's own bounds end through `noteDrained` and `callEnded`.
    private func waitForServerWideRoom() {
        guard !waitingForServerWideRoom, queuedResponseBytes < config.maxQueuedResponseBytes,
              runningUnaryCalls < config.maxRunningUnaryCalls, let budget = fullServerWideBudget else { return }
        waitingForServerWideRoom = true
        let loop = self.loop!
        budget.whenRoom { [self] in
            loop.execute {
                self.waitingForServerWideRoom = false
                if self.session != nil { self.startParked() }
            }
        }
    }

    private func startCounted(_ stream: ServerStream) {
        runningUnaryCalls += 1
        stream.countedRunning = true
        stream.countedRequestBytes = stream.heldBytes  // the whole request, framed
        config.requestBudget.add(stream.countedRequestBytes)
        startCall(stream)
        // The call may have ended at once (deadline past, bad request); not
        // through `callEnded`, which would recurse into `startParked`.
        if stream.task == nil && stream.reply == nil { uncount(stream) }
    }

    private func uncount(_ stream: ServerStream) {
        stream.countedRunning = false
        runningUnaryCalls -= 1
        config.requestBudget.remove(stream.countedRequestBytes)
        stream.countedRequestBytes = 0
    }

    /// A counted call's handler returned (on the loop; the connection may be gone).
    func callEnded(_ stream: ServerStream) {
        guard stream.countedRunning else { return }
        uncount(stream)
        if session == nil {
            if runningUnaryCalls == 0 && heldMuchMemory { MemoryTrim.request(on: loop) }
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
        if parkedHead < parkedCalls.count { waitForServerWideRoom() }
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
        config.responseBudget.add(bytes)
        if queuedResponseBytes > 1 << 20 { heldMuchMemory = true }
    }

    /// nghttp2 took `bytes` of a stream's response; start waiting calls once
    /// the bounds allow (from a later loop turn: this runs inside nghttp2's send).
    func noteDrained(_ bytes: Int) {
        queuedResponseBytes -= bytes
        config.responseBudget.remove(bytes)
        scheduleStartParked()
    }

    /// A stream closed (its unsent bytes were dropped, a counted call may be
    /// gone): start waiting calls the bounds now allow, from a later loop turn
    /// (this runs inside nghttp2's callbacks).
    func scheduleStartParked() {
        guard !startParkedScheduled, parkedHead < parkedCalls.count, mayStartUnaryCall else { return }
        startParkedScheduled = true
        loop.execute { [self] in
            startParkedScheduled = false
            if session != nil { startParked() }
        }
    }

    /// Frees a dropped stream's unsent response now (a task or writer may keep the stream object).
    func dropOutbound(_ stream: ServerStream) {
        let pending = stream.pendingOutboundBytes
        guard pending > 0 || stream.outbound.capacity > 0 else { return }
        queuedResponseBytes -= pending
        config.responseBudget.remove(pending)
        stream.outbound = []
        stream.outboundIndex = 0
    }
}
