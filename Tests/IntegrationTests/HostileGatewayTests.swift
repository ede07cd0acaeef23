import Foundation
import Testing

/// The JSON gateway under odd HTTP (issue 18, item 8): the same bytes to
/// swift-etcd and to etcd 3.5.1, the same answers.
@Suite(.serialized) struct HostileGatewayTests {
    /// Sends raw bytes on one TCP connection; reads until `responses`
    /// complete HTTP responses have come back or the server closed the
    /// connection (nil: until it closes). `seconds` only bounds a hang.
    static func exchange(port: Int, _ bytes: [UInt8], responses: Int? = 1,
                         seconds: Double = 60) -> (text: String, closed: Bool) {
        guard let fd = connectedSocket(port: port) else { return ("", true) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may answer and close before reading it all (431)
            sent += n
        }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                return (String(decoding: out, as: UTF8.self), true)
            }
            if n > 0 {
                out += buffer[0..<n]
                if let responses, completeResponses(out) >= responses { break }
            }
        }
        return (String(decoding: out, as: UTF8.self), false)
    }

    /// How many complete HTTP/1.1 responses `bytes` holds (a body framed by
    /// Content-Length or chunked; one framed by the close is never complete).
    static func completeResponses(_ bytes: [UInt8]) -> Int {
        let separator: [UInt8] = Array("\r\n\r\n".utf8), crlf: [UInt8] = Array("\r\n".utf8)
        func find(_ needle: [UInt8], from: Int) -> Int? {
            guard bytes.count >= needle.count, from <= bytes.count - needle.count else { return nil }
            return (from...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        var count = 0, at = 0
        while let headEnd = find(separator, from: at) {
            let head = String(decoding: bytes[at..<headEnd], as: UTF8.self).lowercased()
            var bodyEnd = headEnd + 4
            if let line = head.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
               let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
                bodyEnd += length
            } else if head.contains("transfer-encoding: chunked") {
                while true {
                    guard let sizeEnd = find(crlf, from: bodyEnd),
                          let size = Int(String(decoding: bytes[bodyEnd..<sizeEnd], as: UTF8.self)
                                            .split(separator: ";").first ?? "", radix: 16) else { return count }
                    bodyEnd = sizeEnd + 2 + size + 2
                    if size == 0 { break }
                }
            } else {
                return count
            }
            guard bodyEnd <= bytes.count else { return count }
            count += 1
            at = bodyEnd
        }
        return count
    }

    /// The status codes of the responses in `text`, in order.
    static func statuses(_ text: String) -> [Int] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    func bothServers(_ body: (_ ours: ServerProcess, _ etcd: ServerProcess) throws -> Void) throws {
        let ours = try ServerProcess()
        let etcd = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); etcd.stop(); etcd.removeData() }
        try ours.start()
        try etcd.start()
        try body(ours, etcd)
    }

    /// A POST without Content-Length has an empty body; what follows is read
    /// as the next request, which Go answers "400 Bad Request" and closes.
    @Test func bodyWithoutContentLengthIsTheNextRequest() throws {
        try bothServers { ours, etcd in
            let request = Array("POST /v3/kv/range HTTP/1.1\r\nHost: x\r\n\r\n{\"key\":\"YQ==\"}\r\n\r\n".utf8)
            let (a, b) = (Self.exchange(port: ours.clientPort, request, responses: nil),
                          Self.exchange(port: etcd.clientPort, request, responses: nil))
            #expect(Self.statuses(a.text) == [400, 400] && Self.statuses(a.text) == Self.statuses(b.text), "\(a.text)\n---\n\(b.text)")
            #expect(a.text.contains("etcdserver: key is not provided") && b.text.contains("etcdserver: key is not provided"))
            #expect(a.text.hasSuffix("400 Bad Request") && b.text.hasSuffix("400 Bad Request"))
            #expect(a.closed && b.closed)
        }
    }

    /// Go's net/http takes 1 MiB of headers, then answers 431.
    @Test func largeHeadersAsGo() throws {
        try bothServers { ours, etcd in
            for (size, expected) in [(200_000, 200), (900_000, 200), (1_100_000, 431)] {
                let request = Array(("POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: size)
                                     + "\r\nContent-Length: 14\r\n\r\n{\"key\":\"YQ==\"}").utf8)
                let (a, b) = (Self.exchange(port: ours.clientPort, request), Self.exchange(port: etcd.clientPort, request))
                #expect(Self.statuses(a.text) == [expected] && Self.statuses(b.text) == [expected],
                        "\(size): ours \(a.text.prefix(200)) etcd \(b.text.prefix(200))")
            }
        }
    }

    /// A body past what the server keeps (2 × the gRPC receive limit) is read
    /// and dropped; both answer gRPC's size error and keep the connection.
    @Test func hugeBodyIsResourceExhausted() throws {
        try bothServers { ours, etcd in
            let value = Data(repeating: UInt8(ascii: "x"), count: 4_000_000).base64EncodedString()
            let body = "{\"key\":\"YQ==\",\"value\":\"\(value)\"}"
            // A small range after it on the same connection: answered only if the connection was kept.
            let request = Array(("POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                                 + "POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n\r\n{\"key\":\"YQ==\"}").utf8)
            for server in [ours, etcd] {
                let answer = Self.exchange(port: server.clientPort, request, responses: 2)
                #expect(Self.statuses(answer.text) == [429, 200], "\(answer.text.prefix(300))")
                #expect(answer.text.contains("\"code\":8") && answer.text.contains("grpc: received message larger than max"))
            }
        }
    }

    /// Nesting up to --max-txn-ops works through JSON too; deeper is etcd's error
    /// ("too many operations", also past our JSON parser's depth) until Go's JSON
    /// limit (10000 levels, 3 per txn), where both answer the scanner's error.
    @Test func deepTxnThroughJSON() throws {
        func nested(_ depth: Int) -> String {
            var txn = #"{"success":[{"request_put":{"key":"ZGVlcA==","value":"dg=="}}]}"#
            for _ in 1..<depth { txn = #"{"success":[{"request_txn":"# + txn + "}]}" }
            return txn
        }
        try bothServers { ours, etcd in
            for (depth, expected) in [(128, 200), (129, 400), (200, 400), (3_000, 400), (3_400, 400)] {
                let body = nested(depth)
                let request = Array("POST /v3/kv/txn HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
                let (a, b) = (Self.exchange(port: ours.clientPort, request), Self.exchange(port: etcd.clientPort, request))
                #expect(Self.statuses(a.text) == [expected] && Self.statuses(b.text) == [expected],
                        "\(depth): ours \(a.text.suffix(200)) etcd \(b.text.suffix(200))")
                if expected == 400 {
                    let words = depth < 3_334 ? "etcdserver: too many operations in txn request" : "exceeded max depth"
                    #expect(a.text.contains(words) && b.text.contains(words),
                            "\(depth): ours \(a.text.suffix(200)) etcd \(b.text.suffix(200))")
                }
            }
        }
    }
}
