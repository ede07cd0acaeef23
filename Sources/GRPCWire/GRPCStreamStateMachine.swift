import NIOCore

/// The pure logic of one server-side gRPC call, driven by nghttp2 callbacks.
///
/// Request side:  `.headers` (collecting) → `.open` (messages flow) → `.closed` (END_STREAM seen).
/// Response side: `.idle` → `.streaming` (HEADERS sent, DATA may follow) → `.finished(status)`
///                (trailers queued once the data drains), or `.idle` → `.finished` directly,
///                which is a trailers-only response.
/// Every input returns an action for the connection to execute; nothing here
/// touches nghttp2, sockets or clocks, so it is tested on its own.
struct GRPCStreamStateMachine {
    enum RequestState: Equatable { case headers, open, closed }
    enum ResponseState: Equatable { case idle, streaming, finished(GRPCStatus) }

    private(set) var requestState: RequestState = .headers
    private(set) var responseState: ResponseState = .idle
    /// The handler has given its final status (trailers may still be unsent).
    var responseFinished: Bool { if case .finished = responseState { true } else { false } }

    // Collected request head.
    private(set) var path: String = ""
    private(set) var method: String = ""
    private(set) var contentType: String = ""
    private(set) var timeout: TimeAmount?
    private(set) var timeoutMalformed = false
    /// `grpc-encoding` of the request messages ("" when absent).
    private(set) var encoding = ""
    private(set) var metadata: [(String, String)] = []
    private var headerBytes = 0
    let maxHeaderListBytes: Int

    private var deframer: GRPCMessageDeframer

    init(maxReceiveBytes: Int, maxHeaderListBytes: Int) {
        self.deframer = GRPCMessageDeframer(maxMessageBytes: maxReceiveBytes)
        self.maxHeaderListBytes = maxHeaderListBytes
    }

    // MARK: request headers

    enum HeaderAction: Equatable {
        case accept
        /// The header block is too large or malformed: reset the stream.
        case resetStream
    }

    /// One header field as nghttp2 hands it. nghttp2's HTTP messaging checks
    /// are off (see the shim), so the rules gRPC relies on are checked here:
    /// names are lower-case and only the four request pseudo-headers exist.
    /// Names are told apart as bytes; a String is made only for a value kept
    /// (path, content type, metadata), through `strings`.
    mutating func receiveHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>,
                                strings: inout HeaderStrings) -> HeaderAction {
        headerBytes += name.count + value.count + 32  // RFC 7540 §6.5.2 accounting
        if headerBytes > maxHeaderListBytes { return .resetStream }
        if name.isEmpty || name.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return .resetStream }
        let field = KnownHeader(name)
        if name[0] == UInt8(ascii: ":") && !field.isRequestPseudoHeader { return .resetStream }
        // Trailers from the client (a second header block) are ignored.
        guard requestState == .headers else { return .accept }
        switch field {
        case .path: path = strings.string(value)
        case .method: method = KnownHeader.equal(value, "POST") ? "POST" : strings.string(value)
        case .scheme, .authority, .te, .userAgent, .grpcAcceptEncoding: break
        case .contentType:
            contentType = KnownHeader.equal(value, "application/grpc") ? "application/grpc" : strings.string(value)
        case .grpcTimeout:
            timeout = parseGRPCTimeout(String(decoding: value, as: UTF8.self))
            if timeout == nil { timeoutMalformed = true }
        case .grpcEncoding: encoding = strings.string(value)
        case .other: metadata.append((strings.string(name), strings.string(value)))
        }
        return .accept
    }

    /// `receiveHeader` with Strings (tests).
    mutating func receiveHeader(name: String, value: String) -> HeaderAction {
        var name = name, value = value, strings = HeaderStrings()
        return name.withUTF8 { n in value.withUTF8 { v in receiveHeader(name: n, value: v, strings: &strings) } }
    }

    enum HeadersEndAction: Equatable {
        /// A valid gRPC request: look up `path` and start the call.
        case start(path: String)
        /// Answer with a trailers-only response (`httpStatus` 200 for gRPC errors).
        case reject(httpStatus: Int, status: GRPCStatus)
    }

    mutating func endHeaders() -> HeadersEndAction {
        guard requestState == .headers else { return .start(path: path) }
        requestState = .open
        if method != "POST" {
            return reject(405, GRPCStatus(.internal, "invalid gRPC request method \"\(method)\""))
        }
        if !(contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
             || contentType.hasPrefix("application/grpc;")) {
            return reject(415, GRPCStatus(.internal, "invalid gRPC request content-type \"\(contentType)\""))
        }
        if timeoutMalformed {
            return reject(200, GRPCStatus(.internal, "transport: malformed grpc-timeout"))
        }
        if encoding == "gzip" { deframer.gzip = true }
        return .start(path: path)
    }

    /// Once the path named a method: the status that refuses a call whose
    /// messages could not be decompressed, before any is read (etcd 3.5 has
    /// gzip registered). grpc-go checks this after the method lookup, so a
    /// malformed or unknown path is answered first.
    var undecodableEncoding: GRPCStatus? {
        switch encoding {
        case "", "identity", "gzip": return nil
        default: return GRPCStatus(.unimplemented, "grpc: Decompressor is not installed for grpc-encoding \"\(encoding)\"")
        }
    }

    private mutating func reject(_ httpStatus: Int, _ status: GRPCStatus) -> HeadersEndAction {
        responseState = .finished(status)
        return .reject(httpStatus: httpStatus, status: status)
    }

    // MARK: request body

    enum DataAction: Equatable {
        case none
        /// One or more messages are ready via `nextMessage()`.
        case messagesReady
        /// End the call with this status (bad framing, too large, compressed).
        case fail(GRPCStatus)
    }

    /// Messages cut from the wire ahead of the handler, at most; later ones
    /// wait as bytes in the deframer until taken. A reader that keeps up
    /// never has more waiting; a call's first message is always cut at once.
    static let cutAhead = 16

    /// What each message waiting for the handler counts in `heldBytes` on
    /// top of its bytes: about what one costs once cut (an allocation and a
    /// slot). So the connection's byte bounds on held requests also bound
    /// how many tiny ones it holds: 20 LeaseKeepAlive streams that were
    /// never read let in 4.8 M 7-byte requests and cost 257 MB before.
    static let heldMessageCharge = 64

    mutating func receiveData(_ bytes: UnsafeRawBufferPointer) -> DataAction {
        guard requestState == .open else { return .none }  // after END_STREAM / failure: drop
        let before = pendingMessageCount
        do {
            var ready = readyMessages, cutBytes = readyBytes
            readyMessages = []
            defer { readyMessages = ready; readyBytes = cutBytes }
            let room = max(0, Self.cutAhead - (ready.count - readyHead))
            _ = try deframer.feed(bytes, deliverAtMost: room) {
                ready.append($0)
                cutBytes += $0.count + GRPCMessageDeframer.headerBytes
            }
        } catch {
            requestState = .closed
            return .fail(error)
        }
        return pendingMessageCount > before ? .messagesReady : .none
    }

    private var readyMessages: [[UInt8]] = []
    private var readyHead = 0
    /// Bytes of the messages in `readyMessages[readyHead...]`, framed.
    private var readyBytes = 0

    /// Takes the oldest complete request message; throws the status that ends
    /// the call if a compressed one held as bytes does not inflate.
    mutating func nextMessage() throws(GRPCStatus) -> [UInt8]? {
        guard readyHead < readyMessages.count else {
            do {
                return try deframer.next()
            } catch {
                requestState = .closed
                throw error
            }
        }
        let message = readyMessages[readyHead]
        readyHead += 1
        readyBytes -= message.count + GRPCMessageDeframer.headerBytes
        if readyHead == readyMessages.count {
            readyMessages.removeAll(keepingCapacity: true)
            readyHead = 0
        }
        return message
    }

    var pendingMessageCount: Int { readyMessages.count - readyHead + deframer.completeMessages }

    /// Request bytes held for the handler as flow control counts them: the
    /// messages not yet taken (framed) and the start of the next, plus
    /// `heldMessageCharge` per message.
    var heldRequestBytes: Int {
        deframer.bufferedBytes + readyBytes + pendingMessageCount * Self.heldMessageCharge
    }

    /// Forgets every request message not yet taken: the call reads no more.
    mutating func dropRequestMessages() {
        deframer.dropAll()
        readyMessages = []
        readyHead = 0
        readyBytes = 0
    }

    enum EndStreamAction: Equatable {
        case requestComplete
        case fail(GRPCStatus)
        case ignore
    }

    /// The client half-closed (END_STREAM in on_frame_recv).
    mutating func receiveEndStream() -> EndStreamAction {
        guard requestState == .open else { return .ignore }
        requestState = .closed
        if deframer.partialBytes > 0 && pendingMessageCount == 0 {
            // grpc-go (etcd 3.5) reads io.ErrUnexpectedEOF here and answers it as UNKNOWN.
            // After a complete message it decodes that one first and never reads the tail.
            return .fail(GRPCStatus(.unknown, "unexpected EOF"))
        }
        return .requestComplete
    }

    /// For unary and server-streaming calls: exactly one request message.
    /// Whatever it returns, nothing more is held for the call afterwards.
    mutating func takeSingleRequest() -> Result<[UInt8], GRPCStatus> {
        defer { dropRequestMessages() }
        let first: [UInt8]?
        do { first = try nextMessage() } catch { return .failure(error) }
        guard let message = first else {
            // grpc-go 1.38 (etcd 3.5) reads io.EOF and answers UNKNOWN "EOF".
            return .failure(GRPCStatus(.unknown, "EOF"))
        }
        if pendingMessageCount > 0 {
            return .failure(GRPCStatus(.unimplemented, "grpc: server received more than one request message for a unary call"))
        }
        return .success(message)
    }

    // MARK: response

    enum SendAction: Equatable {
        /// First message: submit response HEADERS with a DATA provider.
        case submitHeaders
        /// Headers already out: resume the (possibly deferred) DATA provider.
        case resumeData
        /// The call already ended; the message is dropped.
        case dropped
    }

    mutating func sendMessage() -> SendAction {
        switch responseState {
        case .idle:
            responseState = .streaming
            return .submitHeaders
        case .streaming:
            return .resumeData
        case .finished:
            return .dropped
        }
    }

    enum FinishAction: Equatable {
        /// No headers were sent: one HEADERS frame with END_STREAM carrying the status.
        case trailersOnly(GRPCStatus)
        /// Headers were sent: trailers go after the queued DATA (resume the provider).
        case trailersAfterData(GRPCStatus)
        case alreadyFinished
    }

    mutating func finish(_ status: GRPCStatus) -> FinishAction {
        switch responseState {
        case .idle:
            responseState = .finished(status)
            return .trailersOnly(status)
        case .streaming:
            responseState = .finished(status)
            return .trailersAfterData(status)
        case .finished:
            return .alreadyFinished
        }
    }

    enum DrainedAction: Equatable {
        /// More may come: defer the DATA provider until `resumeData`.
        case deferData
        /// Response ended: set EOF + NO_END_STREAM and submit these trailers.
        case sendTrailers(GRPCStatus)
    }

    /// The DATA provider found the outbound buffer empty.
    func outboundDrained() -> DrainedAction {
        if case .finished(let status) = responseState { return .sendTrailers(status) }
        return .deferData
    }

    var isFinished: Bool {
        if case .finished = responseState { return true }
        return false
    }
}
