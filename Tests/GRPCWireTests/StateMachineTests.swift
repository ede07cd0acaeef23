import NIOCore
import Testing
@testable import GRPCWire

/// The pure parts, without sockets: framing, timeouts, status encoding, the
/// per-call state machine, keepalive enforcement, protocol detection.
@Suite struct StateMachineTests {
    private func machine(maxReceive: Int = 1024) -> GRPCStreamStateMachine {
        GRPCStreamStateMachine(maxReceiveBytes: maxReceive, maxHeaderListBytes: 8192)
    }

    private func requestHeaders(_ m: inout GRPCStreamStateMachine, path: String = "/s.S/M",
                                contentType: String = "application/grpc", method: String = "POST",
                                extra: [(String, String)] = []) {
        for (n, v) in [(":method", method), (":scheme", "http"), (":path", path),
                       ("content-type", contentType), ("te", "trailers")] + extra {
            #expect(m.receiveHeader(name: n, value: v) == .accept)
        }
    }

    private func feed(_ m: inout GRPCStreamStateMachine, _ bytes: [UInt8]) -> GRPCStreamStateMachine.DataAction {
        bytes.withUnsafeBytes { m.receiveData($0) }
    }

    @Test func deframerSplitsMessagesAcrossChunks() throws {
        var d = GRPCMessageDeframer(maxMessageBytes: 100)
        let wire = framed([[1, 2, 3], [], [9]])
        for byte in wire.prefix(6) { d.append([byte]) }
        #expect(try d.next() == nil)
        d.append(Array(wire.dropFirst(6)))
        #expect(try d.next() == [1, 2, 3])
        #expect(try d.next() == [])
        #expect(try d.next() == [9])
        #expect(try d.next() == nil)
        #expect(d.bufferedBytes == 0)
    }

    @Test func deframerRejectsCompressedAndOversized() {
        var d = GRPCMessageDeframer(maxMessageBytes: 4)
        d.append([1, 0, 0, 0, 1, 7])
        #expect(throws: GRPCStatus(.internal, "grpc: compressed flag set with identity or empty encoding")) { try d.next() }
        var big = GRPCMessageDeframer(maxMessageBytes: 4)
        big.append([0, 0, 0, 0, 5])
        #expect(throws: GRPCStatus(.resourceExhausted, "grpc: received message larger than max (5 vs. 4)")) { try big.next() }
    }

    /// gzip([4, 2]), gzip([4]) + gzip([2]) (two members), gzip(3000 zero bytes); mtime 0.
    static let gzip42: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 97, 2, 0, 215, 182, 187, 203, 2, 0, 0, 0]
    static let gzipTwoMembers: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 1, 0, 148, 43, 111, 213, 1, 0, 0, 0,
                                          31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 99, 2, 0, 161, 142, 12, 60, 1, 0, 0, 0]
    static let gzip3000Zeros: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 237, 193, 49, 1, 0, 0, 0, 194, 160, 245, 79,
                                         109, 13, 15, 160, 0, 0, 128, 119, 3, 13, 91, 134, 218, 184, 11, 0, 0]

    /// Answers compared with etcd 3.5.1 (grpc-go 1.38) on the wire.
    @Test func gzipMessagesAsGrpcGo() throws {
        #expect(try GzipMessage.decompress(Self.gzip42, maxBytes: 100) == [4, 2])
        #expect(try GzipMessage.decompress(Self.gzipTwoMembers, maxBytes: 100) == [4, 2])
        #expect(try GzipMessage.decompress(Self.gzip3000Zeros, maxBytes: 3000) == [UInt8](repeating: 0, count: 3000))
        func fails(_ data: [UInt8], max: Int = 100) -> GRPCStatus? {
            do { _ = try GzipMessage.decompress(data, maxBytes: max); return nil } catch { return error }
        }
        let prefix = "grpc: failed to decompress the received message "
        #expect(fails(Array("notgzip".utf8)) == GRPCStatus(.internal, prefix + "unexpected EOF"))
        #expect(fails([]) == GRPCStatus(.internal, prefix + "EOF"))
        #expect(fails([0x78, 0x9C] + [UInt8](repeating: 1, count: 12)) == GRPCStatus(.internal, prefix + "gzip: invalid header"))
        // The declared size (trailer) is checked first; then the real one, bounded.
        #expect(fails(Self.gzip3000Zeros, max: 2999) == GRPCStatus(.resourceExhausted, "grpc: received message larger than max (3000 vs. 2999)"))
        var lying = Self.gzip3000Zeros
        lying.replaceSubrange((lying.count - 4)..., with: [1, 0, 0, 0])
        #expect(fails(lying, max: 100) == GRPCStatus(.resourceExhausted, "grpc: received message larger than max (101 vs. 100)"))
        // Cut short: grpc-go reads the last 4 bytes as the size first (etcd answered this way).
        let cut = Array(Self.gzip42.dropLast(6))
        #expect(fails(cut) == GRPCStatus(.resourceExhausted, "grpc: received message larger than max (3067543554 vs. 100)"))
        #expect(fails(cut, max: 1 << 32) == GRPCStatus(.internal, prefix + "unexpected EOF"))
        var badCRC = Self.gzip42
        badCRC[badCRC.count - 8] ^= 1
        #expect(fails(badCRC) == GRPCStatus(.internal, prefix + "gzip: invalid checksum"))
    }

    @Test func gzipEncodingIsAcceptedOthersRefusedBeforeAnyMessage() throws {
        var a = machine()
        requestHeaders(&a, extra: [("grpc-encoding", "gzip")])
        #expect(a.endHeaders() == .start(path: "/s.S/M"))
        #expect(feed(&a, [1, 0, 0, 0, UInt8(Self.gzip42.count)] + Self.gzip42) == .messagesReady)
        #expect(try a.nextMessage() == [4, 2])
        #expect(feed(&a, [0, 0, 0, 0, 1, 9]) == .messagesReady)  // uncompressed messages still pass
        #expect(try a.nextMessage() == [9])
        var b = machine()
        requestHeaders(&b, extra: [("grpc-encoding", "deflate")])
        // Refused once the path is known to name a method (grpc-go looks the method up first).
        #expect(b.endHeaders() == .start(path: "/s.S/M"))
        #expect(b.undecodableEncoding == GRPCStatus(
            .unimplemented, "grpc: Decompressor is not installed for grpc-encoding \"deflate\""))
        #expect(a.undecodableEncoding == nil)
    }

    /// A handler that does not read: past `cutAhead` its messages wait as
    /// bytes, each counted with `heldMessageCharge` (before, each was cut into
    /// an allocation of its own: 4.8 M tiny requests held 257 MB).
    @Test func unreadMessagesWaitAsBytesAndCountPerMessage() throws {
        var m = machine()
        requestHeaders(&m)
        _ = m.endHeaders()
        let count = 1000
        let wire = framed((0..<count).map { [UInt8(truncatingIfNeeded: $0)] })  // 6 bytes each
        #expect(feed(&m, Array(wire.prefix(3001))) == .messagesReady)
        #expect(m.pendingMessageCount == 500)
        #expect(feed(&m, Array(wire.dropFirst(3001))) == .messagesReady)
        #expect(m.pendingMessageCount == count)
        #expect(m.heldRequestBytes == count * (6 + GRPCStreamStateMachine.heldMessageCharge))
        for i in 0..<count {
            #expect(try m.nextMessage() == [UInt8(truncatingIfNeeded: i)])
            #expect(m.heldRequestBytes == (count - i - 1) * (6 + GRPCStreamStateMachine.heldMessageCharge))
        }
        #expect(try m.nextMessage() == nil)
        #expect(m.receiveEndStream() == .requestComplete)
    }

    /// A bad prefix behind held messages still ends the call when it
    /// arrives; the messages before it stay takeable, nothing after it.
    /// A compressed message held as bytes is inflated when taken.
    @Test func heldMessagesKeepTheirChecks() throws {
        var m = machine(maxReceive: 10)
        requestHeaders(&m)
        _ = m.endHeaders()
        let held = framed((0..<40).map { [UInt8($0)] })
        #expect(feed(&m, held + [0, 0, 0, 0, 11] + framed([[99]])) == .fail(GRPCStatus(.resourceExhausted, "grpc: received message larger than max (11 vs. 10)")))
        for i in 0..<40 { #expect(try m.nextMessage() == [UInt8(i)]) }
        #expect(try m.nextMessage() == nil)
        #expect(m.heldRequestBytes == 0)

        var z = machine()
        requestHeaders(&z, extra: [("grpc-encoding", "gzip")])
        _ = z.endHeaders()
        var bad = Self.gzip42
        bad[bad.count - 8] ^= 1
        let good = [1, 0, 0, 0, UInt8(Self.gzip42.count)] + Self.gzip42
        let wire = Array(repeating: good, count: 20).flatMap { $0 } + [1, 0, 0, 0, UInt8(bad.count)] + bad + good
        #expect(feed(&z, wire) == .messagesReady)
        for _ in 0..<20 { #expect(try z.nextMessage() == [4, 2]) }
        #expect(throws: GRPCStatus(.internal, "grpc: failed to decompress the received message gzip: invalid checksum")) {
            try z.nextMessage()
        }
        #expect(z.requestState == .closed)
        #expect(try z.nextMessage() == nil)  // nothing past it
        #expect(z.heldRequestBytes == 0)
    }

    @Test func timeoutParsing() {
        #expect(parseGRPCTimeout("1S") == .seconds(1))
        #expect(parseGRPCTimeout("250m") == .milliseconds(250))
        #expect(parseGRPCTimeout("99999999n") == .nanoseconds(99_999_999))
        #expect(parseGRPCTimeout("2H") == .hours(2))
        #expect(parseGRPCTimeout("5") == nil)
        #expect(parseGRPCTimeout("123456789S") == nil)
        #expect(parseGRPCTimeout("1x") == nil)
        // Go's strconv.ParseInt takes a sign (etcd 3.5.1: "+1S" is 1 s, "-1S" already past).
        #expect(parseGRPCTimeout("-1S") == .seconds(-1))
        #expect(parseGRPCTimeout("+1S") == .seconds(1))
        #expect(parseGRPCTimeout("+-1S") == nil)
        #expect(parseGRPCTimeout("+S") == nil)
        #expect(parseGRPCTimeout("+12345678S") == nil)  // 10 bytes
        // Near and past Int64 nanoseconds: capped, as grpc-go clamps.
        #expect(parseGRPCTimeout("2562047H") == .hours(2_562_047))
        #expect(parseGRPCTimeout("2562048H") == .nanoseconds(.max))
        #expect(parseGRPCTimeout("99999999H") == .nanoseconds(.max))
    }

    @Test func timeAmountSumsSaturate() {
        #expect(TimeAmount.nanoseconds(.max).saturatingPlus(.milliseconds(200)) == .nanoseconds(.max))
        #expect(TimeAmount.nanoseconds(.min).saturatingPlus(.nanoseconds(-1)) == .nanoseconds(.min))
        #expect(TimeAmount.seconds(1).saturatingPlus(.milliseconds(200)) == .milliseconds(1200))
    }

    @Test func percentEncodingRoundTrips() {
        let message = "bad: 100% ünïcode\nline"
        let encoded = GRPCStatus.percentEncode(message)
        #expect(encoded == "bad: 100%25 %C3%BCn%C3%AFcode%0Aline")
        #expect(GRPCStatus.percentDecode(encoded) == message)
        #expect(GRPCStatus.percentEncode("plain") == "plain")
        #expect(GRPCStatus.percentDecode("%zz%4") == "%zz%4")
    }

    @Test func unaryCallHappyPath() {
        var m = machine()
        requestHeaders(&m, extra: [("authorization", "token"), ("grpc-timeout", "5S")])
        #expect(m.endHeaders() == .start(path: "/s.S/M"))
        #expect(m.metadata.map { $0.0 } == ["authorization"])
        #expect(m.timeout == .seconds(5))
        #expect(feed(&m, framed([[42]])) == .messagesReady)
        #expect(m.receiveEndStream() == .requestComplete)
        #expect(m.takeSingleRequest() == .success([42]))
        #expect(m.sendMessage() == .submitHeaders)
        #expect(m.finish(.ok) == .trailersAfterData(.ok))
        #expect(m.outboundDrained() == .sendTrailers(.ok))
        #expect(m.finish(GRPCStatus(.internal)) == .alreadyFinished)
    }

    @Test func streamingDefersUntilFinished() {
        var m = machine()
        requestHeaders(&m)
        _ = m.endHeaders()
        #expect(m.sendMessage() == .submitHeaders)
        #expect(m.outboundDrained() == .deferData)
        #expect(m.sendMessage() == .resumeData)
        #expect(m.finish(GRPCStatus(.aborted, "x")) == .trailersAfterData(GRPCStatus(.aborted, "x")))
        #expect(m.outboundDrained() == .sendTrailers(GRPCStatus(.aborted, "x")))
        #expect(m.sendMessage() == .dropped)
    }

    @Test func errorBeforeAnyMessageIsTrailersOnly() {
        var m = machine()
        requestHeaders(&m)
        _ = m.endHeaders()
        #expect(m.finish(GRPCStatus(.unimplemented, "no")) == .trailersOnly(GRPCStatus(.unimplemented, "no")))
    }

    @Test func rejectsBadContentTypeMethodAndTimeout() {
        var a = machine()
        requestHeaders(&a, contentType: "application/json")
        #expect(a.endHeaders() == .reject(httpStatus: 415, status: GRPCStatus(.internal, "invalid gRPC request content-type \"application/json\"")))
        var b = machine()
        requestHeaders(&b, method: "GET")
        guard case .reject(405, _) = b.endHeaders() else { Issue.record("GET accepted"); return }
        var c = machine()
        requestHeaders(&c, extra: [("grpc-timeout", "soon")])
        guard case .reject(200, let status) = c.endHeaders() else { Issue.record("bad timeout accepted"); return }
        #expect(status.code == .internal)
        var d = machine()
        requestHeaders(&d, contentType: "application/grpc+proto")
        #expect(d.endHeaders() == .start(path: "/s.S/M"))
    }

    @Test func compressedOversizedAndTruncatedRequestsFail() {
        var a = machine(maxReceive: 10)
        requestHeaders(&a)
        _ = a.endHeaders()
        #expect(feed(&a, [1, 0, 0, 0, 1, 5]) == .fail(GRPCStatus(.internal, "grpc: compressed flag set with identity or empty encoding")))
        var b = machine(maxReceive: 10)
        requestHeaders(&b)
        _ = b.endHeaders()
        #expect(feed(&b, [0, 0, 0, 0, 11]) == .fail(GRPCStatus(.resourceExhausted, "grpc: received message larger than max (11 vs. 10)")))
        var c = machine()
        requestHeaders(&c)
        _ = c.endHeaders()
        #expect(feed(&c, [0, 0, 0, 0, 3, 1]) == .none)
        guard case .fail(let status) = c.receiveEndStream() else { Issue.record("truncated accepted"); return }
        #expect(status == GRPCStatus(.unknown, "unexpected EOF"))  // grpc-go 1.38, as etcd 3.5 answers
    }

    @Test func unaryNeedsExactlyOneMessage() {
        var none = machine()
        requestHeaders(&none)
        _ = none.endHeaders()
        _ = none.receiveEndStream()
        guard case .failure(let s1) = none.takeSingleRequest() else { Issue.record("empty accepted"); return }
        #expect(s1 == GRPCStatus(.unknown, "EOF"))  // grpc-go 1.38, as etcd 3.5 answers
        // A complete message followed by a partial one: the message is taken, the tail unread.
        var tail = machine()
        requestHeaders(&tail)
        _ = tail.endHeaders()
        _ = feed(&tail, framed([[7]]) + [0, 0, 0])
        #expect(tail.receiveEndStream() == .requestComplete)
        guard case .success(let first) = tail.takeSingleRequest() else { Issue.record("tail refused"); return }
        #expect(first == [7])
        var two = machine()
        requestHeaders(&two)
        _ = two.endHeaders()
        _ = feed(&two, framed([[1], [2]]))
        guard case .failure(let s2) = two.takeSingleRequest() else { Issue.record("two accepted"); return }
        #expect(s2.code == .unimplemented)
    }

    /// Names are told apart as bytes (`KnownHeader`): upper case and unknown
    /// pseudo-headers reset the stream, known names of the call's head stay
    /// out of the metadata, names that only look like them stay in it.
    @Test func headerNamesAreRecognisedByTheirBytes() {
        for bad in ["Content-Type", ":status", ":pathx", ":"] {
            var m = machine()
            #expect(m.receiveHeader(name: bad, value: "x") == .resetStream, "\(bad)")
        }
        var m = machine()
        requestHeaders(&m, extra: [("user-agent", "go"), ("grpc-accept-encoding", "gzip"), ("hasleader", "true"),
                                   ("te2", "x"), ("content-typ", "y"), ("grpc-encoding", "identity")])
        #expect(m.endHeaders() == .start(path: "/s.S/M"))
        #expect(m.metadata.map { "\($0.0)=\($0.1)" } == ["hasleader=true", "te2=x", "content-typ=y"])
        #expect(m.method == "POST" && m.contentType == "application/grpc" && m.encoding == "identity")
        var post = machine()
        requestHeaders(&post, method: "POSTS")
        #expect(post.endHeaders() == .reject(httpStatus: 405, status: GRPCStatus(.internal, "invalid gRPC request method \"POSTS\"")))
    }

    @Test func headerListLimitResetsTheStream() {
        var m = GRPCStreamStateMachine(maxReceiveBytes: 10, maxHeaderListBytes: 200)
        #expect(m.receiveHeader(name: "a", value: String(repeating: "x", count: 100)) == .accept)
        #expect(m.receiveHeader(name: "b", value: String(repeating: "x", count: 100)) == .resetStream)
    }

    @Test func dataAfterEndStreamIsIgnored() {
        var m = machine()
        requestHeaders(&m)
        _ = m.endHeaders()
        #expect(m.receiveEndStream() == .requestComplete)
        #expect(feed(&m, framed([[1]])) == .none)
        #expect(m.receiveEndStream() == .ignore)
    }

    @Test func keepaliveStrikesLeadToGoAway() {
        var k = KeepaliveEnforcer(minTime: .seconds(5), permitWithoutStream: false)
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        #expect(k.receivedPing(at: t0, activeStreams: 1) == .accept)
        #expect(k.receivedPing(at: t0 + .seconds(10), activeStreams: 1) == .accept)  // spaced: fine
        #expect(k.receivedPing(at: t0 + .seconds(11), activeStreams: 1) == .accept)  // strike 1
        #expect(k.receivedPing(at: t0 + .seconds(12), activeStreams: 1) == .accept)  // strike 2
        k.sentHeadersOrData()
        #expect(k.receivedPing(at: t0 + .seconds(13), activeStreams: 1) == .accept)
        #expect(k.receivedPing(at: t0 + .seconds(14), activeStreams: 1) == .accept)  // strike 1
        #expect(k.receivedPing(at: t0 + .seconds(15), activeStreams: 1) == .accept)  // strike 2
        #expect(k.receivedPing(at: t0 + .seconds(16), activeStreams: 1) == .goAway)  // strike 3
        var idle = KeepaliveEnforcer(minTime: .seconds(5), permitWithoutStream: false)
        _ = idle.receivedPing(at: t0, activeStreams: 0)
        _ = idle.receivedPing(at: t0 + .minutes(10), activeStreams: 0)
        _ = idle.receivedPing(at: t0 + .minutes(20), activeStreams: 0)
        #expect(idle.receivedPing(at: t0 + .minutes(30), activeStreams: 0) == .goAway)
    }

    @Test func protocolDetection() {
        #expect(ProtocolDetector.classify(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)) == .http2)
        #expect(ProtocolDetector.classify(Array("PRI * HT".utf8)) == .needMore)
        #expect(ProtocolDetector.classify(Array("GET /version HTTP/1.1\r\n".utf8)) == .http1)
        #expect(ProtocolDetector.classify(Array("P".utf8)) == .needMore)
        #expect(ProtocolDetector.classify([0xFF, 0x00]) == .http1)
    }

    @Test func routerDistinguishesUnknownServiceAndMethod() {
        let router = GRPCRouter()
        router.unary("/pkg.KV/Range") { r, _ in r }
        guard case .success = router.route("/pkg.KV/Range") else { Issue.record("not found"); return }
        guard case .failure(let m) = router.route("/pkg.KV/Nope"),
              case .failure(let s) = router.route("/pkg.Other/Range") else { Issue.record("found"); return }
        #expect(m == GRPCStatus(.unimplemented, "unknown method Nope for service pkg.KV"))
        #expect(s == GRPCStatus(.unimplemented, "unknown service pkg.Other"))
    }
}
