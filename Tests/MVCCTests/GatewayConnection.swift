import Foundation
import TestSupport
@testable import MVCC

/// One keep-alive HTTP/1.1 connection to etcd's JSON gateway: a POST per
/// call without a process per call (a curl process each made the
/// differential test spend minutes spawning). Bodies come back framed by
/// Content-Length or chunked, as Go's net/http frames them.
final class GatewayConnection {
    private let port: Int
    private var fd: Int32 = -1
    private var pending: [UInt8] = []

    init(port: Int) { self.port = port }

    deinit { if fd >= 0 { close(fd) } }

    /// POSTs `body` to `path`; the answer's body. No retry: a write
    /// might have been applied before the connection failed.
    func post(_ path: String, _ body: Data) throws -> Data {
        do { return try exchange(path, body) } catch {
            if fd >= 0 { close(fd) }
            fd = -1
            pending = []
            throw error
        }
    }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        guard let s = connectedLoopbackSocket(port: port) else { throw MVCCError(.internal, "connect failed") }
        // A generous bound on a hang, not a timing assertion.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = s
    }

    private func exchange(_ path: String, _ body: Data) throws -> Data {
        try connectIfNeeded()
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        let request = Array(head.utf8) + Array(body)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw MVCCError(.internal, "send failed") }
            sent += n
        }
        let headEnd = try readUntil(Array("\r\n\r\n".utf8))
        let headText = String(decoding: pending[..<headEnd], as: UTF8.self).lowercased()
        pending.removeFirst(headEnd + 4)
        let lines = headText.components(separatedBy: "\r\n")
        if let line = lines.first(where: { $0.hasPrefix("content-length:") }),
           let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) {
            return Data(try take(length))
        }
        guard lines.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) else {
            throw MVCCError(.internal, "unframed answer: \(headText)")
        }
        var out: [UInt8] = []
        while true {
            let sizeEnd = try readUntil(Array("\r\n".utf8))
            let sizeText = String(decoding: pending[..<sizeEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw MVCCError(.internal, "bad chunk size")
            }
            pending.removeFirst(sizeEnd + 2)
            if size == 0 {
                _ = try take(2)  // no trailers from the gateway: the final CRLF
                return Data(out)
            }
            out += try take(size)
            _ = try take(2)
        }
    }

    /// Reads until `pending` holds `needle`; its offset.
    private func readUntil(_ needle: [UInt8]) throws -> Int {
        var from = 0
        while true {
            if pending.count >= needle.count {
                for i in from...(pending.count - needle.count) where pending[i..<(i + needle.count)].elementsEqual(needle) {
                    return i
                }
                from = pending.count - needle.count + 1
            }
            try fill()
        }
    }

    /// Removes and returns the next `count` bytes.
    private func take(_ count: Int) throws -> [UInt8] {
        while pending.count < count { try fill() }
        let out = Array(pending[..<count])
        pending.removeFirst(count)
        return out
    }

    private func fill() throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { throw MVCCError(.internal, "connection closed") }
        pending += buffer[0..<n]
    }
}
