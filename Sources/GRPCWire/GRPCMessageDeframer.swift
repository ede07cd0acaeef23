/// Splits a gRPC request body into messages: each is a 1-byte compressed flag,
/// a 4-byte big-endian length, then that many bytes.
///
/// Received bytes stay here as bytes until a message is taken (`next()`):
/// a message cut out costs an allocation (~50 bytes) however small it is,
/// so a client that sends millions of 7-byte requests to a handler that does
/// not read them would make us hold 8× its bytes. Each complete message's
/// prefix is checked when it arrives (`receive`), so a bad one still ends the
/// call at once; only a compressed message is inflated when taken.
///
/// Invariant: `buffer[readIndex..<scanIndex]` holds `completeMessages`
/// checked, complete messages; `buffer[scanIndex...]` the start of the next.
struct GRPCMessageDeframer {
    /// Largest accepted message, bytes (grpc's receive limit), both as sent
    /// and after decompression.
    let maxMessageBytes: Int
    /// The request's `grpc-encoding` is gzip: messages flagged compressed
    /// are inflated (`GzipMessage`). Set before the first DATA.
    var gzip = false
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var scanIndex = 0
    /// Complete messages held, not yet taken.
    private(set) var completeMessages = 0

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes held: complete messages not yet taken and the start of the next.
    var bufferedBytes: Int { buffer.count - readIndex }

    /// Bytes held that do not yet form a complete message.
    var partialBytes: Int { buffer.count - scanIndex }

    /// A buffer this large is not kept once empty: a stream that once held
    /// a backlog (or one large message) does not keep its memory for life.
    private static let keptCapacity = 64 << 10

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if readIndex == buffer.count {
            if buffer.capacity > Self.keptCapacity { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
            readIndex = 0
            scanIndex = 0
        } else if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends a chunk and checks the prefix of every message it completes;
    /// throws the status that must end the call (bad flag, too large). The
    /// messages complete before a bad prefix stay takeable.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(GRPCStatus) {
        append(bytes)
        try scan()
    }

    /// Feeds a chunk: while nothing older is held, up to `limit` complete
    /// messages are cut straight from the chunk (the usual case: a reader
    /// waits and a whole small message comes per DATA frame) and handed to
    /// `deliver`; the rest stay held (`next()`). Returns how many were delivered.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, deliverAtMost limit: Int,
                       _ deliver: ([UInt8]) -> Void) throws(GRPCStatus) -> Int {
        var delivered = 0
        var offset = 0
        if bufferedBytes == 0 {
            while delivered < limit && bytes.count - offset >= 5 {
                let (length, compressed) = try checkedLength(bytes, at: offset)
                guard bytes.count - offset - 5 >= length else { break }
                let message = Array(UnsafeRawBufferPointer(rebasing: bytes[(offset + 5)..<(offset + 5 + length)]))
                deliver(compressed ? try GzipMessage.decompress(message, maxBytes: maxMessageBytes) : message)
                offset += 5 + length
                delivered += 1
            }
        }
        if offset < bytes.count {
            try receive(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            while delivered < limit, let message = try next() {
                deliver(message)
                delivered += 1
            }
        }
        return delivered
    }

    /// Drops everything held (the call reads no more).
    mutating func dropAll() {
        buffer = []
        readIndex = 0
        scanIndex = 0
        completeMessages = 0
    }

    /// Counts the messages completed since the last scan, checking each
    /// prefix; at a bad one, drops it and all after it, then throws.
    private mutating func scan() throws(GRPCStatus) {
        while buffer.count - scanIndex >= 5 {
            let at = scanIndex
            let checked = buffer.withUnsafeBytes { raw in
                Result { () throws(GRPCStatus) in try checkedLength(raw, at: at) }
            }
            let length: Int
            do {
                (length, _) = try checked.get()
            } catch {
                buffer.removeSubrange(scanIndex...)  // nothing past a bad prefix is read
                throw error
            }
            guard buffer.count - scanIndex - 5 >= length else { return }
            scanIndex += 5 + length
            completeMessages += 1
        }
    }

    /// Validates the 5-byte prefix at `offset`: the message length and
    /// whether it is compressed (grpc-go's checkRecvPayload, in its order).
    private func checkedLength(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(GRPCStatus) -> (Int, Bool) {
        let flag = bytes[offset]
        let length = Int(bytes[offset + 1]) << 24 | Int(bytes[offset + 2]) << 16
            | Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
        if flag > 1 {
            throw GRPCStatus(.internal, "grpc: received unexpected payload format \(flag)")
        }
        if flag == 1 && !gzip {
            throw GRPCStatus(.internal, "grpc: compressed flag set with identity or empty encoding")
        }
        if length > maxMessageBytes {
            throw GRPCStatus(.resourceExhausted, "grpc: received message larger than max (\(length) vs. \(maxMessageBytes))")
        }
        return (length, flag == 1)
    }

    /// The oldest complete message, nil if more bytes are needed; throws the
    /// status that must end the call (bad prefix, a compressed message that
    /// does not inflate or inflates too large).
    mutating func next() throws(GRPCStatus) -> [UInt8]? {
        if completeMessages == 0 { try scan() }
        guard completeMessages > 0 else { return nil }
        let compressed = buffer[readIndex] == 1
        let length = Int(buffer[readIndex + 1]) << 24 | Int(buffer[readIndex + 2]) << 16
            | Int(buffer[readIndex + 3]) << 8 | Int(buffer[readIndex + 4])
        let start = readIndex + 5
        let message = Array(buffer[start..<start + length])
        readIndex = start + length
        completeMessages -= 1
        if readIndex == buffer.count && buffer.capacity > Self.keptCapacity {
            buffer = []
            readIndex = 0
            scanIndex = 0
        }
        guard compressed else { return message }
        do {
            return try GzipMessage.decompress(message, maxBytes: maxMessageBytes)
        } catch {
            dropAll()  // nothing past a message that fails is read
            throw error
        }
    }

    /// Bytes of a message's frame header (compressed flag, 4-byte length).
    static let headerBytes = 5

    /// Writes the frame header into the first `headerBytes` of `message`,
    /// which carries the message after them.
    static func writeHeader(into message: inout [UInt8]) {
        precondition(message.count >= headerBytes)
        let n = UInt32(truncatingIfNeeded: message.count - headerBytes)
        message[0] = 0
        message[1] = UInt8(truncatingIfNeeded: n >> 24)
        message[2] = UInt8(truncatingIfNeeded: n >> 16)
        message[3] = UInt8(truncatingIfNeeded: n >> 8)
        message[4] = UInt8(truncatingIfNeeded: n)
    }

    /// Frames one outgoing message (flag 0) into `out`.
    static func frame(_ message: [UInt8], into out: inout [UInt8]) {
        let n = UInt32(truncatingIfNeeded: message.count)
        // One allocation, not one per growth step; but growing geometrically:
        // an exact reserve on a buffer that collects many responses copies
        // the whole buffer per response (quadratic; a 100-watcher fan-out
        // spent 80 % of its time in page faults and memmove).
        let needed = out.count + 5 + message.count
        if needed > out.capacity { out.reserveCapacity(Swift.max(needed, 2 * out.capacity)) }
        out.append(0)
        out.append(UInt8(truncatingIfNeeded: n >> 24))
        out.append(UInt8(truncatingIfNeeded: n >> 16))
        out.append(UInt8(truncatingIfNeeded: n >> 8))
        out.append(UInt8(truncatingIfNeeded: n))
        out.append(contentsOf: message)
    }
}
