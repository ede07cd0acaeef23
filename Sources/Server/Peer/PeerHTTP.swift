import Config
import Foundation
import JSONEscaping
import NIOCore

/// etcd's peer port is an HTTP server (rafthttp) whose `GET /version`,
/// `/members` and `/raft/probing` answer anyone, and tools probe them. Our
/// peer protocol is frames: a hello's length starts with a zero byte (it is
/// under 16 MiB), an HTTP request with a method's capital letter. On such a
/// connection this handler, first in the pipeline after TLS, reads the
/// request head (at most `maxHeadBytes`), answers those three paths as etcd
/// 3.5.1 does (rafthttp's other paths 405 or 412, as `PeerHTTPAnswer.answer`
/// says; 404 "404 page not found" for any other path), and closes.
/// Any other first byte: it steps aside for the frame decoder.
final class PeerHTTPSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxHeadBytes = 8192
    private let answer: @Sendable (_ method: String, _ path: String) -> PeerHTTPAnswer
    private var head: ByteBuffer?
    private var answered = false

    init(answer: @escaping @Sendable (String, String) -> PeerHTTPAnswer) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !answered else { return }
        if head == nil {
            guard let first: UInt8 = bytes.getInteger(at: bytes.readerIndex) else { return }
            guard (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) else {
                // Pass these bytes on first: a removed handler's context forwards nothing.
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            head = context.channel.allocator.buffer(capacity: 512)
        }
        head!.writeBuffer(&bytes)
        let view = head!.readableBytesView
        guard let end = Self.endOfHead(view) else {
            if view.count > Self.maxHeadBytes { respond(context, PeerHTTPAnswer(status: 431, text: "431 Request Header Fields Too Large")) }
            return
        }
        let line = String(decoding: view[view.startIndex..<end].prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            respond(context, PeerHTTPAnswer(status: 400, text: "400 Bad Request"))
            return
        }
        let path = parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let method = String(parts[0])
        respond(context, answer(method, path), bodyless: method == "HEAD")
    }

    /// Index of the blank line ending the head, if it has come.
    private static func endOfHead(_ view: ByteBufferView) -> ByteBufferView.Index? {
        let crlf2: [UInt8] = [13, 10, 13, 10]
        guard view.count >= 4 else { return nil }
        var i = view.startIndex
        while i + 4 <= view.endIndex {
            if view[i] == 13 && view[i..<i + 4].elementsEqual(crlf2) { return i }
            i += 1
        }
        return nil
    }

    private func respond(_ context: ChannelHandlerContext, _ a: PeerHTTPAnswer, bodyless: Bool = false) {
        answered = true
        head = nil
        var text = "HTTP/1.1 \(a.status) \(PeerHTTPAnswer.reason(a.status))\r\n"
        for (name, value) in a.headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "Content-Type: \(a.contentType)\r\nContent-Length: \(a.body.count)\r\nConnection: close\r\n\r\n"
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count + a.body.count)
        buffer.writeString(text)
        if !bodyless { buffer.writeBytes(a.body) }
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
    }
}

/// One answer of `PeerHTTPSniffer`.
struct PeerHTTPAnswer: Sendable, Equatable {
    var status: Int
    var contentType = "text/plain; charset=utf-8"
    var headers: [String: String] = [:]
    var body: [UInt8]

    init(status: Int, contentType: String = "text/plain; charset=utf-8", headers: [String: String] = [:], text: String) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        body = Array(text.utf8)
    }

    /// Go's net/http answers for an unknown path (body with a newline).
    static let notFound = PeerHTTPAnswer(status: 404, headers: ["X-Content-Type-Options": "nosniff"], text: "404 page not found\n")

    /// Go's http.Error for a method a handler does not take (`allow`: its Allow header, if it sets one).
    static func methodNotAllowed(allow: String?) -> PeerHTTPAnswer {
        var headers = ["X-Content-Type-Options": "nosniff"]
        headers["Allow"] = allow
        return PeerHTTPAnswer(status: 405, headers: headers, text: "Method Not Allowed\n")
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 412: return "Precondition Failed"
        case 431: return "Request Header Fields Too Large"
        default: return "Error"
        }
    }

    /// etcd 3.5.1's peer answers: `/version` (the cluster version, "not_decided"
    /// until set), `/members` (decimal IDs, X-Etcd-Cluster-Id in hex) and
    /// `/raft/probing` (rafthttp's prober: `{"OK":true,"Now":…}`).
    /// rafthttp's own paths answer as etcd's handlers do to a request without
    /// an etcd peer's headers: the wrong method 405 (with their Allow), the
    /// right one 412 "incompatible version" (what an etcd member dialling
    /// us is told: we do not speak rafthttp); the prober takes any method.
    static func answer(method: String, path: String, clusterVersion: String?, clusterID: UInt64,
                       members: [ClusterMember], now: Date = Date()) -> PeerHTTPAnswer {
        let incompatible = PeerHTTPAnswer(status: 412, headers: ["X-Content-Type-Options": "nosniff",
                                                                 "X-Etcd-Cluster-Id": String(clusterID, radix: 16)],
                                          text: "incompatible version\n")
        switch path {
        case "/raft", "/raft/snapshot":
            return method == "POST" ? incompatible : methodNotAllowed(allow: "POST")
        case _ where path.hasPrefix("/raft/stream/"):
            guard method == "GET" else { return methodNotAllowed(allow: "GET") }
            var answer = incompatible
            answer.headers["X-Server-Version"] = SwiftEtcdVersion.etcdCompatible
            return answer
        case "/leases", "/leases/internal":
            return method == "POST" ? notFound : methodNotAllowed(allow: nil)
        case _ where path.hasPrefix("/members/promote/"):
            return method == "POST" ? notFound : methodNotAllowed(allow: "POST")
        case "/raft/probing":
            break
        case "/version", "/members":
            guard method == "GET" else { return methodNotAllowed(allow: "GET") }  // HEAD too
        default:
            return notFound
        }
        switch path {
        case "/version":
            return PeerHTTPAnswer(status: 200, contentType: "application/json",
                                  text: "{\"etcdserver\":\"\(SwiftEtcdVersion.etcdCompatible)\",\"etcdcluster\":\"\(clusterVersion ?? "not_decided")\"}")
        case "/members":
            // Go's json.Encoder on membership.Member: id, peerURLs, isLearner (only when
            // true), name, clientURLs; a newline.
            func list(_ strings: [String]) -> String {
                "[" + strings.map { JSONEscaper.quoted($0, dialect: .encodingJSON) }.joined(separator: ",") + "]"
            }
            let objects = members.map { m in
                "{\"id\":\(m.id),\"peerURLs\":\(list(m.peerURLs)),\(m.isLearner ? "\"isLearner\":true," : "")"
                    + "\"name\":\(JSONEscaper.quoted(m.name, dialect: .encodingJSON)),\"clientURLs\":\(list(m.clientURLs))}"
            }
            return PeerHTTPAnswer(status: 200, contentType: "application/json",
                                  headers: ["X-Etcd-Cluster-Id": String(clusterID, radix: 16)],
                                  text: "[" + objects.joined(separator: ",") + "]\n")
        default:
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return PeerHTTPAnswer(status: 200, text: "{\"OK\":true,\"Now\":\"\(formatter.string(from: now))\"}\n")
        }
    }
}
