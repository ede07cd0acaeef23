import Foundation

/// One gRPC call sent as raw HTTP/2 by nghttp (Debian's nghttp2-client), so a
/// test controls what no client library lets it: any header value
/// (`grpc-timeout: 2562048H`, `grpc-encoding`), the compressed flag, any
/// message bytes. Streams are cut after `timeoutSeconds` (a Watch never ends).
struct RawGRPCResult {
    var httpStatus: Int?
    var grpcStatus: Int?
    var grpcMessage: String?
    /// The response messages (gRPC framing removed; compressed ones as sent).
    var messages: [[UInt8]]
    var output: String
}

enum RawGRPC {
    /// - Parameters:
    ///   - compressed: sets the message's compressed flag (the bytes are sent as given).
    static func call(port: Int, path: String, message: [UInt8], headers: [(String, String)] = [],
                     compressed: Bool = false, timeoutSeconds: Double = 20) throws -> RawGRPCResult {
        let n = UInt32(message.count)
        let frame = [compressed ? 1 : 0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + message
        let dir = NSTemporaryDirectory() + "rawgrpc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let body = dir + "/body", out = dir + "/out"
        FileManager.default.createFile(atPath: body, contents: Data(frame))
        FileManager.default.createFile(atPath: out, contents: nil)
        var args = ["-v", "-t", "\(Int(timeoutSeconds))", "-H", ":method: POST", "-H", "content-type: application/grpc",
                    "-H", "te: trailers"]
        for (name, value) in headers { args += ["-H", "\(name): \(value)"] }
        args += ["-d", body, "http://127.0.0.1:\(port)\(path)"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessRunner.resolve("nghttp"))
        process.arguments = args
        let handle = FileHandle(forWritingAtPath: out)!
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds + 10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try handle.close()
        return parse([UInt8](FileManager.default.contents(atPath: out) ?? Data()))
    }

    /// nghttp -v prints each DATA frame's payload just before its
    /// "recv DATA frame <length=N" line, and headers as "recv (stream_id=…) name: value".
    static func parse(_ raw: [UInt8]) -> RawGRPCResult {
        let text = String(decoding: raw, as: UTF8.self)
        var result = RawGRPCResult(messages: [], output: text)
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: ") ", options: [], range: line.range(of: "recv (stream_id=").map { $0.upperBound..<line.endIndex })
            else { continue }
            let header = line[range.upperBound...]
            if header.hasPrefix(":status: ") { result.httpStatus = Int(header.dropFirst(9)) }
            if header.hasPrefix("grpc-status: ") { result.grpcStatus = Int(header.dropFirst(13)) }
            if header.hasPrefix("grpc-message: ") { result.grpcMessage = String(header.dropFirst(14)) }
        }
        // DATA payloads, in order.
        var data: [UInt8] = []
        let marker = Array("] recv DATA frame <length=".utf8)
        var i = 0
        while let at = find(marker, in: raw, from: i) {
            var j = at + marker.count, length = 0
            while j < raw.count, raw[j] >= 48, raw[j] <= 57 { length = length * 10 + Int(raw[j] - 48); j += 1 }
            // Back from "[" of the "[  0.123] recv DATA" line to the payload's start.
            var lineStart = at
            while lineStart > 0 && raw[lineStart] != UInt8(ascii: "[") { lineStart -= 1 }
            if length > 0 && lineStart >= length { data += raw[(lineStart - length)..<lineStart] }
            i = j
        }
        var k = 0
        while k + 5 <= data.count {
            let n = Int(data[k + 1]) << 24 | Int(data[k + 2]) << 16 | Int(data[k + 3]) << 8 | Int(data[k + 4])
            guard k + 5 + n <= data.count else { break }
            result.messages.append(Array(data[(k + 5)..<(k + 5 + n)]))
            k += 5 + n
        }
        return result
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
