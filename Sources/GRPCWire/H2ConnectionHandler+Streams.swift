import CNGHTTP2
import NIOCore

/// Entry points from other threads (handler tasks, writers, readers) always
/// hop to `loop` before touching the connection, so the handler is only ever
/// used on its event loop.
extension H2ConnectionHandler: @unchecked Sendable {}

extension H2ConnectionHandler {
    @inline(__always)
    func onLoop(_ body: @escaping () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    // MARK: request side (called from nghttp2 callbacks)

    /// False refuses the stream (too many open on this connection).
    func openStream(_ id: Int32) -> Bool {
        guard streams.count < config.maxStreamsPerConnection else { return false }
        let stream = ServerStream(id: id, machine: GRPCStreamStateMachine(
            maxReceiveBytes: config.maxReceiveBytes, maxHeaderListBytes: Int(config.maxHeaderListBytes)))
        streams[id] = stream
        openingStream = stream
        return true
    }

    /// False resets the stream (its header list, or all the connection holds, too large).
    func receiveHeader(streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let stream = lookUpStream(streamID) else { return true }
        let n = name.count + value.count + 32
        if headerBytes + n > config.maxConnectionHeaderBytes { return false }
        headerBytes += n
        stream.headerBytes += n
        if headerBytes > 1 << 20 { heldMuchMemory = true }
        let action = stream.machine.receiveHeader(name: name, value: value, strings: &headerStrings)
        return action == .accept
    }

    /// The open stream `id` (the one whose headers arrive, without a lookup).
    private func lookUpStream(_ id: Int32) -> ServerStream? {
        if let opening = openingStream, opening.id == id { return opening }
        return streams[id]
    }

    func endHeaders(streamID: Int32, endStream: Bool) {
        guard let stream = lookUpStream(streamID) else { return }
        openingStream = nil
        if stream.handler == nil, !stream.machine.isFinished {
            switch stream.machine.endHeaders() {
            case .reject(let httpStatus, let status):
                submitTrailersOnly(stream, status, httpStatus: httpStatus)
            case .start(let path):
                switch router.routeWithProbe(path) {
                case .failure(let status):
                    finish(stream, status)
                case .success(let route):
                    if let status = stream.machine.undecodableEncoding {
                        finish(stream, status)
                        break
                    }
                    let handler = route.handler
                    stream.handler = handler
                    stream.inline = route.inline
                    stream.callback = route.callback
                    if let probe = route.probe {
                        stream.probe = probe
                        stream.probeStartedNanos = NIODeadline.now().uptimeNanoseconds
                        probe.started()
                    }
                    if let timeout = stream.machine.timeout {
                        stream.deadline = .now() + timeout  // saturates
                        // A negative timeout (Go parses "-1S") is a deadline already past.
                        let wait = timeout.nanoseconds < 0 ? .zero : timeout
                        trackDeadline(stream, firesAt: .now() + wait.saturatingPlus(config.deadlineGrace))
                    }
                    if case .bidi = handler { startCall(stream) }
                }
            }
        }
        if endStream { self.endStream(streamID: streamID) }
    }

    func receiveData(streamID: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let session else { return }
        guard let stream = streams[streamID], !stream.machine.isFinished else {
            // Nobody will read these bytes: give the window back at once.
            if streams[streamID] != nil {
                _ = nghttp2_session_consume(session, streamID, bytes.count)
            } else {
                _ = nghttp2_session_consume_connection(session, bytes.count)
            }
            return
        }
        let action = stream.machine.receiveData(bytes)
        accountReceived(stream, bytes.count)
        switch action {
        case .none:
            break
        case .messagesReady:
            wakeReader(stream)
        case .fail(let status):
            failRequest(stream, status)
        }
    }

    /// Ends a call whose request cannot be read (bad framing, a truncated
    /// message). A deadline already past wins, as in `startCall`: the call is
    /// over before its message is read (etcd 3.5.1: DEADLINE_EXCEEDED for a
    /// bad frame or a message cut short too).
    private func failRequest(_ stream: ServerStream, _ status: GRPCStatus) {
        stream.requestFailure = status
        let past = stream.deadline.map { $0 <= .now() } ?? false
        finish(stream, past ? GRPCStatus(.deadlineExceeded, "context deadline exceeded") : status)
    }

    func endStream(streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        switch stream.machine.receiveEndStream() {
        case .ignore:
            return
        case .fail(let status):
            failRequest(stream, status)
        case .requestComplete:
            switch stream.handler {
            case .bidi: wakeReader(stream)
            case .unary, .serverStreaming: admitOrPark(stream)
            case nil: break
            }
        }
    }

    func streamClosed(streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if openingStream === stream { openingStream = nil }
        releaseClosed(stream)
        stream.reportHandled(.cancelled)
        abandon(stream)
        scheduleStartParked()
        if draining && streams.isEmpty { scheduleFlush() }
    }

    /// Stops everything a stream still runs: its task, its waiters (its
    /// deadline entry finds it closed).
    func abandon(_ stream: ServerStream) {
        stream.closed = true
        dropOutbound(stream)
        stream.task?.cancel()
        stream.reply?.cancel()
        // Boxing the status as an error costs an allocation; most streams have no waiter.
        if stream.readWaiter != nil || stream.writeWaiter != nil {
            stream.failWaiters(GRPCStatus(.cancelled, "context canceled"))
        }
    }

    func sentFrame(streamID: Int32, type: UInt8, endStream: Bool) {
        keepalive.sentHeadersOrData()
        // Our response ended but the client is still sending: reset as gRPC servers do.
        if endStream, type == UInt8(NGHTTP2_HEADERS.rawValue), let session,
           let stream = streams[streamID], stream.machine.requestState != .closed {
            _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID,
                                          NGHTTP2_NO_ERROR.rawValue)
        }
    }

    func receivedPing() {
        if keepalive.receivedPing(at: .now(), activeStreams: streams.count) == .goAway {
            logger.debug("ping flood: GOAWAY ENHANCE_YOUR_CALM")
            goAwayTooManyPings()
        }
    }

    // MARK: calls

    private func spawn(_ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        if let executor {
            return Task(executorPreference: executor, operation: body)
        }
        return Task(operation: body)
    }

    func startCall(_ stream: ServerStream) {
        guard let handler = stream.handler, stream.task == nil else { return }
        let deadline = stream.deadline
        if let deadline, deadline <= .now() {
            // Nothing may start for a call whose deadline already passed (no
            // proposal nobody waits for). etcd 3.5.1 answers such a call
            // DEADLINE_EXCEEDED, or at random its handler's own answer.
            finish(stream, GRPCStatus(.deadlineExceeded, "context deadline exceeded"))
            return
        }
        let context = GRPCRequestContext(
            headers: stream.machine.metadata, path: stream.machine.path,
            deadline: deadline, remoteAddress: remoteAddress, identity: identity)
        switch handler {
        case .unary(let call):
            guard let request = takeSingleRequest(stream) else { return }
            if let inline = stream.inline {
                // Served here on the loop when it can be: no task, no executor hop.
                do {
                    if var response = try inline(request, context) {
                        GRPCMessageDeframer.writeHeader(into: &response)
                        completeUnary(stream, response, framed: true)
                        return
                    }
                } catch {
                    finish(stream, .from(error))
                    return
                }
            }
            if let callback = stream.callback {
                // Answered later through the reply (a write once applied): no task either.
                let reply = GRPCUnaryReply(connection: self, stream: stream)
                stream.reply = reply
                do {
                    if try callback(request, context, reply) {
                        if inReadBatch { callbackStartedInReadBatch = true }
                        return
                    }
                    stream.reply = nil
                } catch {
                    stream.reply = nil
                    finish(stream, .from(error))
                    return
                }
            }
            run(stream, deadline: deadline) { try await call(request, context) }
        case .serverStreaming(let call):
            guard let request = takeSingleRequest(stream) else { return }
            let writer = GRPCResponseWriter(connection: self, stream: stream)
            run(stream, deadline: deadline) {
                try await call(request, context, writer)
                return nil
            }
        case .bidi(let call):
            if stream.inline != nil { stream.context = context }
            let writer = GRPCResponseWriter(connection: self, stream: stream)
            let requests = GRPCRequestStream(connection: self, stream: stream)
            run(stream, deadline: deadline) {
                try await call(requests, writer, context)
                return nil
            }
        }
    }

    /// Runs a handler in its task; a returned message is a unary response,
    /// nil means the handler streamed its own. Either way the call ends on the loop.
    private func run(_ stream: ServerStream, deadline: NIODeadline?,
                     _ body: @escaping @Sendable () async throws -> [UInt8]?) {
        if inReadBatch && executor != nil { callStartedInReadBatch = true }
        stream.task = spawn { [self] in
            do {
                let response = try await GRPCRequestContext.$currentDeadline.withValue(deadline) { try await body() }
                onLoop {
                    if let response { self.completeUnary(stream, response) } else { self.finish(stream, .ok) }
                    self.callEnded(stream)
                }
            } catch {
                onLoop {
                    self.finish(stream, .from(error))
                    self.callEnded(stream)
                }
            }
        }
    }

    private func takeSingleRequest(_ stream: ServerStream) -> [UInt8]? {
        let result = stream.machine.takeSingleRequest()
        releaseHeld(stream)
        switch result {
        case .success(let request):
            stream.probe?.received()
            return request
        case .failure(let status):
            finish(stream, status)
            return nil
        }
    }

    // MARK: response side

    /// A unary handler's answer: HEADERS, one DATA, trailers, in one flush.
    /// `framed`: `response` starts with its frame header (`GRPCMessageDeframer.writeHeader`).
    func completeUnary(_ stream: ServerStream, _ response: [UInt8], framed: Bool = false) {
        guard !stream.closed, session != nil else { return }
        let size = response.count - (framed ? GRPCMessageDeframer.headerBytes : 0)
        if size > config.maxSendBytes {
            finish(stream, GRPCStatus(.resourceExhausted,
                                      "grpc: trying to send message larger than max (\(size) vs. \(config.maxSendBytes))"))
            return
        }
        guard stream.machine.sendMessage() == .submitHeaders else { return }
        if framed { stream.enqueue(framed: response) } else { stream.enqueue(response) }
        noteQueued(size + GRPCMessageDeframer.headerBytes)
        stream.probe?.sent()
        stream.reportHandled(.ok)
        _ = stream.machine.finish(.ok)
        submitResponse(stream)
        scheduleFlush()
    }

    /// Queues streamed messages in order; true when the caller must wait
    /// for the stream's queue to drain below the high-water mark. A message
    /// over the size limit fails the call before anything after it is queued.
    func enqueueResponses<Messages: Collection>(_ stream: ServerStream, _ messages: Messages) throws -> Bool
    where Messages.Element == [UInt8] {
        guard !stream.closed, let session else { throw GRPCStatus(.cancelled, "context canceled") }
        for message in messages {
            if message.count > config.maxSendBytes {
                throw GRPCStatus(.resourceExhausted,
                                 "grpc: trying to send message larger than max (\(message.count) vs. \(config.maxSendBytes))")
            }
            switch stream.machine.sendMessage() {
            case .dropped:
                throw stream.requestFailure ?? GRPCStatus(.cancelled, "context canceled")
            case .submitHeaders:
                stream.enqueue(message)
                noteQueued(message.count + 5)
                stream.probe?.sent()
                submitResponse(stream)
            case .resumeData:
                stream.enqueue(message)
                noteQueued(message.count + 5)
                stream.probe?.sent()
                if stream.dataDeferred {
                    stream.dataDeferred = false
                    _ = nghttp2_session_resume_data(session, stream.id)
                }
            }
        }
        scheduleFlush()
        return mustWaitToSend(stream)
    }

    func waitWritable(_ stream: ServerStream, _ waiter: CheckedContinuation<Void, any Error>) {
        if stream.closed || stream.machine.isFinished {
            waiter.resume(throwing: stream.requestFailure ?? GRPCStatus(.cancelled, "context canceled"))
        } else if !mustWaitToSend(stream) {
            waiter.resume()
        } else {
            stream.writeWaiter = waiter
        }
    }

    /// Ends the call with `status`: trailers-only if nothing was sent, else
    /// trailers after the queued DATA.
    func finish(_ stream: ServerStream, _ status: GRPCStatus) {
        guard !stream.closed, let session else { return }
        let action = stream.machine.finish(status)
        if case .alreadyFinished = action { return }
        stream.reportHandled(status.code)
        switch action {
        case .alreadyFinished:
            return
        case .trailersOnly(let status):
            submitTrailersOnly(stream, status, httpStatus: 200)
        case .trailersAfterData:
            if stream.dataDeferred {
                stream.dataDeferred = false
                _ = nghttp2_session_resume_data(session, stream.id)
            }
        }
        stream.failWaiters(status.code == .ok ? GRPCStatus(.cancelled, "stream finished") : status)
        scheduleFlush()
    }

    private func submitResponse(_ stream: ServerStream) {
        guard let session else { return }
        _ = cng_submit_response(session, stream.id, HeaderBlock.responseHeaders,
                                HeaderBlock.responseHeadersCount, h2ReadResponseData)
    }

    func submitTrailersOnly(_ stream: ServerStream, _ status: GRPCStatus, httpStatus: Int) {
        guard let session else { return }
        var fields = [(":status", String(httpStatus)), ("content-type", "application/grpc")]
        fields.append(contentsOf: HeaderBlock.statusFields(status))
        _ = HeaderBlock.with(fields) { cng_submit_response(session, stream.id, $0, $1, nil) }
    }

    /// Serves the DATA provider (see `h2ReadResponseData`).
    func readResponseData(streamID: Int32, into buf: UnsafeMutablePointer<UInt8>, length: Int,
                          flags: UnsafeMutablePointer<UInt32>) -> cng_ssize {
        guard let session, let stream = streams[streamID] else {
            return cng_ssize(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        let n = stream.drain(into: buf, length: length)
        if n > 0 { noteDrained(n) }
        if let waiter = stream.writeWaiter, !mustWaitToSend(stream) {
            stream.writeWaiter = nil
            waiter.resume()
        }
        guard stream.pendingOutboundBytes == 0 else { return n }
        switch stream.machine.outboundDrained() {
        case .deferData:
            if n > 0 { return n }
            stream.dataDeferred = true
            return cng_ssize(NGHTTP2_ERR_DEFERRED.rawValue)
        case .sendTrailers(let status):
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
            if status.code == .ok {
                _ = nghttp2_submit_trailer(session, streamID, HeaderBlock.trailersOK, 1)
            } else {
                _ = HeaderBlock.with(HeaderBlock.statusFields(status)) {
                    nghttp2_submit_trailer(session, streamID, $0, $1)
                }
            }
            return n
        }
    }

    // MARK: bidi request stream

    enum RequestPoll {
        case message([UInt8])
        case end
        case failed(any Error)
        case pending
    }

    func pollRequest(_ stream: ServerStream) -> RequestPoll {
        do {
            if let message = try stream.machine.nextMessage() {
                releaseHeld(stream)
                stream.probe?.received()
                return .message(message)
            }
        } catch {
            // A compressed message held as bytes did not inflate: the handler
            // reading it throws, which ends the call with this status.
            releaseHeld(stream)
            stream.requestFailure = error
            return .failed(error)
        }
        if let failure = stream.requestFailure { return .failed(failure) }
        if stream.closed { return .failed(GRPCStatus(.cancelled, "context canceled")) }
        if stream.machine.requestState == .closed { return .end }
        return .pending
    }

    func waitRequest(_ stream: ServerStream, _ waiter: CheckedContinuation<[UInt8]?, any Error>) {
        stream.readWaiter = waiter
        wakeReader(stream)
    }

    /// The handler waiting for a request message was cancelled.
    func cancelRequestWait(_ stream: ServerStream) {
        guard let waiter = stream.readWaiter else { return }
        stream.readWaiter = nil
        waiter.resume(throwing: CancellationError())
    }

    func wakeReader(_ stream: ServerStream) {
        guard let waiter = stream.readWaiter else { return }
        while true {
            switch pollRequest(stream) {
            case .pending: return
            case .message(let m):
                // The handler waits here, so all it sent is queued: an inline
                // answer keeps the responses in request order.
                if answeredInline(stream, m) {
                    // A failed answer ended the call and woke the handler already.
                    if stream.readWaiter == nil { return }
                    continue
                }
                stream.readWaiter = nil
                waiter.resume(returning: m)
            case .end: stream.readWaiter = nil; waiter.resume(returning: nil)
            case .failed(let e): stream.readWaiter = nil; waiter.resume(throwing: e)
            }
            return
        }
    }

    /// Answers one bidi request message with the method's inline form;
    /// false leaves it to the handler (no inline form or answer, or a
    /// sender would have to wait now (`mustWaitToSend`): the handler's
    /// `send` then waits).
    private func answeredInline(_ stream: ServerStream, _ message: [UInt8]) -> Bool {
        guard let inline = stream.inline, let context = stream.context, !mustWaitToSend(stream),
              let response = try? inline(message, context) else { return false }
        do {
            _ = try enqueueResponses(stream, CollectionOfOne(response))
        } catch {
            // As the handler's `send` throwing would: the call ends with it.
            finish(stream, .from(error))
        }
        return true
    }
}
