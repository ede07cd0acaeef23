import CZlib

/// Inflates a request message sent with `grpc-encoding: gzip` (etcd 3.5's
/// grpc-go has the gzip codec registered), with grpc-go 1.38's checks and
/// answers, in its order:
/// 1. the gzip header must be readable (Go's gzip.NewReader);
/// 2. the size the gzip trailer declares (ISIZE, the last 4 bytes) must not
///    exceed the limit;
/// 3. inflating stops one byte past the limit, so memory stays bounded
///    whatever the trailer claimed;
/// 4. concatenated gzip members are one message, as Go's multistream reader.
enum GzipMessage {
    static func decompress(_ data: [UInt8], maxBytes: Int) throws(GRPCStatus) -> [UInt8] {
        func failed(_ why: String) -> GRPCStatus {
            GRPCStatus(.internal, "grpc: failed to decompress the received message \(why)")
        }
        if let problem = headerProblem(data[...]) { throw failed(problem) }
        if data.count >= 4 {
            let n = data.count
            let declared = Int(data[n - 4]) | Int(data[n - 3]) << 8 | Int(data[n - 2]) << 16 | Int(data[n - 1]) << 24
            if declared > maxBytes { throw tooLarge(declared, maxBytes) }
        }
        let limit = maxBytes < Int.max ? maxBytes + 1 : maxBytes
        let result = inflateMembers(data, limit: limit)
        switch result {
        case .failure(let why): throw failed(why.text)
        case .success(let out):
            if out.count > maxBytes { throw tooLarge(out.count, maxBytes) }
            return out
        }
    }

    private static func tooLarge(_ size: Int, _ max: Int) -> GRPCStatus {
        GRPCStatus(.resourceExhausted, "grpc: received message larger than max (\(size) vs. \(max))")
    }

    /// Go's readHeader errors for the 10 fixed header bytes.
    private static func headerProblem(_ d: ArraySlice<UInt8>) -> String? {
        if d.isEmpty { return "EOF" }
        if d.count < 10 { return "unexpected EOF" }
        let s = d.startIndex
        if d[s] != 0x1F || d[s + 1] != 0x8B || d[s + 2] != 8 { return "gzip: invalid header" }
        return nil
    }

    /// Why inflating failed, in Go's words.
    private struct Failure: Error {
        var text: String
    }

    /// Inflates every member, at most `limit` bytes out; Go-like error texts.
    private static func inflateMembers(_ data: [UInt8], limit: Int) -> Result<[UInt8], Failure> {
        var stream = z_stream()
        guard czlib_inflate_init_gzip(&stream) == Z_OK else { return .failure(Failure(text: "gzip: cannot start inflate")) }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return data.withUnsafeBufferPointer { input -> Result<[UInt8], Failure> in
            var consumed = 0
            while true {
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                stream.avail_in = UInt32(clamping: input.count - consumed)
                let before = stream.avail_in
                let wanted = min(chunk.count, limit - out.count)
                let rc = chunk.withUnsafeMutableBufferPointer { buf -> Int32 in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = UInt32(wanted)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                consumed += Int(before - stream.avail_in)
                out += chunk[0..<(wanted - Int(stream.avail_out))]
                if out.count >= limit { return .success(out) }
                switch rc {
                case Z_STREAM_END:
                    // The next member, if any (Go reads members until EOF).
                    let rest = input.count - consumed
                    if rest == 0 { return .success(out) }
                    if let problem = headerProblem(data[consumed...]) { return .failure(Failure(text: problem)) }
                    guard inflateReset(&stream) == Z_OK else { return .failure(Failure(text: "gzip: cannot restart inflate")) }
                case Z_OK:
                    // Room left yet nothing more to read: the member was cut short.
                    if consumed == input.count && stream.avail_out != 0 { return .failure(Failure(text: "unexpected EOF")) }
                case Z_BUF_ERROR:
                    // No progress possible: the input ended inside the member.
                    if consumed == input.count { return .failure(Failure(text: "unexpected EOF")) }
                    continue
                case Z_DATA_ERROR:
                    let message = stream.msg.map { String(cString: $0) } ?? ""
                    if message.contains("check") { return .failure(Failure(text: "gzip: invalid checksum")) }
                    return .failure(Failure(text: "flate: corrupt input before offset \(consumed)"))
                default:
                    return .failure(Failure(text: "flate: inflate failed (\(rc))"))
                }
            }
        }
    }
}
