/// Reads a bbolt file without trusting it: every page id, size, element
/// and key order is checked before use, and anything wrong is a
/// `BoltReadError` naming the file and the byte offset, never a trap.
///
/// What it checks: a valid meta page (magic, version, FNV checksum; the
/// newer of the two), that the file holds every page the meta counts, and
/// while walking a bucket: each page is the id it claims, a branch or leaf
/// as expected, inside the file with its overflow pages, its elements and
/// their keys and values inside the page, keys strictly ascending, no page
/// reached twice (which also rules out cycles), and a bounded depth.
/// Memory: one page per tree level.
public final class BoltReader {
    public let source: any BoltByteSource
    public let meta: BoltMeta
    public var pageSize: Int { Int(meta.pageSize) }
    /// One bit per page: reached already in the current walk (a page reached
    /// twice is corrupt: a cycle or a shared page).
    var seen: [UInt64]
    static let maxDepth = 64

    public init(_ source: any BoltByteSource) throws {
        self.source = source
        meta = try Self.readMeta(source)
        let need = Int64(meta.pageCount).multipliedReportingOverflow(by: Int64(meta.pageSize))
        if meta.pageCount > UInt64(Int64.max) || need.overflow || need.partialValue > source.sizeBytes {
            throw BoltReadError(file: source.name, offset: source.sizeBytes,
                                reason: "truncated: the meta counts \(meta.pageCount) pages of \(meta.pageSize) bytes, the file has \(source.sizeBytes) bytes")
        }
        seen = [UInt64](repeating: 0, count: Int(meta.pageCount + 63) / 64)
        seen[0] |= 0b11  // the meta pages
    }

    /// The meta with the higher transaction id among the valid ones.
    static func readMeta(_ source: any BoltByteSource) throws -> BoltMeta {
        func meta(at pageOffset: Int64) throws -> Result<BoltMeta, BoltMeta.Problem>? {
            let end = pageOffset + Int64(BoltFormat.pageHeaderBytes + BoltMeta.encodedBytes)
            guard end <= source.sizeBytes else { return nil }
            var bytes = [UInt8](repeating: 0, count: BoltMeta.encodedBytes)
            try bytes.withUnsafeMutableBytes { try source.read(into: $0, at: pageOffset + Int64(BoltFormat.pageHeaderBytes)) }
            return bytes.withUnsafeBytes { BoltMeta.decode($0) }
        }
        guard let first = try meta(at: 0) else {
            throw BoltReadError(file: source.name, offset: 0, reason: "file too small (\(source.sizeBytes) bytes) for a bbolt database")
        }
        var candidates: [BoltMeta] = []
        if case .success(let m) = first { candidates.append(m) }
        let secondOffset = Int64(candidates.first.map { Int($0.pageSize) } ?? BoltFormat.defaultPageSize)
        if case .success(let m)? = try meta(at: secondOffset) { candidates.append(m) }
        guard let best = candidates.max(by: { $0.txid < $1.txid }) else {
            guard case .failure(let problem) = first else { fatalError("unreachable") }
            throw BoltReadError(file: source.name, offset: Int64(BoltFormat.pageHeaderBytes), reason: problem.description)
        }
        return best
    }

    /// A bucket of the root bucket.
    public struct Bucket: Equatable, Sendable {
        public var name: [UInt8]
        public var root: UInt64
        public var sequence: UInt64
        /// An inline bucket's leaf page (root 0).
        var inlinePage: [UInt8]?
        /// Where the bucket's header sits in the file (for errors).
        var offset: Int64
    }

    /// The top-level buckets, in name order. Entries of the root bucket that
    /// are not buckets are an error (bbolt allows none).
    public func buckets() throws -> [Bucket] {
        var out: [Bucket] = []
        try walk(root: meta.rootPage, inlinePage: nil, bucketName: "(root)") { key, value, flags, offset in
            guard flags & BoltFormat.bucketLeafFlag != 0 else {
                throw error(offset, "the root bucket holds a plain key \(Self.show(key)), not a bucket")
            }
            out.append(try bucket(name: key, header: value, offset: offset))
        }
        return out
    }

    /// Calls `body` with every entry of `bucket` in key order; the buffers
    /// are valid only during the call. `flags` has `bucketLeafFlag` for a
    /// nested bucket (whose value is its header); `offset` is where the
    /// entry's element sits in the file (for error messages).
    public func forEach(_ bucket: Bucket,
                        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ flags: UInt32,
                                 _ offset: Int64) throws -> Void) throws {
        try walk(root: bucket.root, inlinePage: bucket.inlinePage, inlineOffset: bucket.offset,
                 bucketName: String(decoding: bucket.name, as: UTF8.self), body)
    }

    /// The bucket named `name`, if the file has it.
    public func bucket(named name: [UInt8]) throws -> Bucket? {
        try buckets().first { $0.name == name }
    }

    func bucket(name: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer, offset: Int64) throws -> Bucket {
        guard header.count >= BoltFormat.bucketHeaderBytes else {
            throw error(offset, "bucket \(Self.show(name)) has a \(header.count)-byte header")
        }
        let root = header.le(UInt64.self, at: 0)
        var b = Bucket(name: Array(name), root: root, sequence: header.le(UInt64.self, at: 8), inlinePage: nil, offset: offset)
        if root == 0 {
            b.inlinePage = Array(header[BoltFormat.bucketHeaderBytes...])
        } else if root < 2 || root >= meta.pageCount {
            throw error(offset, "bucket \(Self.show(name)) has root page \(root), outside pages 2..<\(meta.pageCount)")
        }
        return b
    }

    func error(_ offset: Int64, _ reason: String) -> BoltReadError {
        BoltReadError(file: source.name, offset: offset, reason: reason)
    }

    /// A key for an error message: quoted if printable, else hex (at most 32 bytes).
    public static func show(_ key: UnsafeRawBufferPointer) -> String {
        let printable = key.allSatisfy { $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") }
        if printable && key.count <= 64 { return "\"" + String(decoding: key, as: UTF8.self) + "\"" }
        return "0x" + key.prefix(32).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            + (key.count > 32 ? "… (\(key.count) bytes)" : "")
    }

    /// Marks a page (and its overflow) reached; throws if one already was.
    func markReached(_ id: UInt64, overflow: UInt32, offset: Int64) throws {
        for p in id...(id + UInt64(overflow)) {
            let (word, bit) = (Int(p / 64), UInt64(1) << (p % 64))
            if seen[word] & bit != 0 { throw error(offset, "page \(p) is reached twice") }
            seen[word] |= bit
        }
    }
}
