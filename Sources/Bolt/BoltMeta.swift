/// A meta page's contents (after the page header), 64 bytes little endian:
/// `magic u32 | version u32 | pageSize u32 | flags u32 | root u64 |
/// rootSequence u64 | freelist u64 | pageCount u64 | txid u64 | checksum u64`.
/// The checksum is FNV-1a 64 of the 56 bytes before it.
public struct BoltMeta: Equatable, Sendable {
    public static let encodedBytes = 64
    static let checksummedBytes = 56

    public var pageSize: UInt32
    public var flags: UInt32 = 0
    /// The root bucket's root page.
    public var rootPage: UInt64
    public var rootSequence: UInt64 = 0
    /// `BoltFormat.noFreelist` when the freelist is not stored.
    public var freelistPage: UInt64
    /// Pages in use: every page id is below it (bbolt's high water mark `pgid`).
    public var pageCount: UInt64
    public var txid: UInt64

    public init(pageSize: UInt32, rootPage: UInt64, freelistPage: UInt64, pageCount: UInt64, txid: UInt64) {
        self.pageSize = pageSize
        self.rootPage = rootPage
        self.freelistPage = freelistPage
        self.pageCount = pageCount
        self.txid = txid
    }

    /// The 64 bytes, checksum included.
    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.encodedBytes)
        out.withUnsafeMutableBytes { b in
            b.storeLE(BoltFormat.magic, at: 0)
            b.storeLE(BoltFormat.version, at: 4)
            b.storeLE(pageSize, at: 8)
            b.storeLE(flags, at: 12)
            b.storeLE(rootPage, at: 16)
            b.storeLE(rootSequence, at: 24)
            b.storeLE(freelistPage, at: 32)
            b.storeLE(pageCount, at: 40)
            b.storeLE(txid, at: 48)
            b.storeLE(Self.fnv1a64(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[0..<Self.checksummedBytes])), at: 56)
        }
        return out
    }

    /// Why a meta cannot be used (bbolt's `validate`, plus bounds a reader needs).
    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case magic(UInt32)
        case version(UInt32)
        case checksum
        case pageSize(UInt32)
        case rootOutOfRange(root: UInt64, pageCount: UInt64)
        case freelistOutOfRange(freelist: UInt64, pageCount: UInt64)

        public var description: String {
            switch self {
            case .magic(let m): return "invalid database (magic 0x\(String(m, radix: 16)), not a bbolt file)"
            case .version(let v): return "version mismatch (file format \(v), want \(BoltFormat.version))"
            case .checksum: return "checksum error"
            case .pageSize(let s): return "invalid page size \(s)"
            case .rootOutOfRange(let r, let n): return "root page \(r) beyond the \(n) pages in use"
            case .freelistOutOfRange(let f, let n): return "freelist page \(f) beyond the \(n) pages in use"
            }
        }
    }

    /// Decodes and checks the 64 bytes at `bytes` (at least that many).
    public static func decode(_ b: UnsafeRawBufferPointer) -> Result<BoltMeta, Problem> {
        precondition(b.count >= encodedBytes)
        let magic = b.le(UInt32.self, at: 0)
        if magic != BoltFormat.magic { return .failure(.magic(magic)) }
        let version = b.le(UInt32.self, at: 4)
        if version != BoltFormat.version { return .failure(.version(version)) }
        let checksum = b.le(UInt64.self, at: 56)
        if checksum != 0 && checksum != fnv1a64(UnsafeRawBufferPointer(rebasing: b[0..<checksummedBytes])) {
            return .failure(.checksum)
        }
        var m = BoltMeta(pageSize: b.le(UInt32.self, at: 8), rootPage: b.le(UInt64.self, at: 16),
                         freelistPage: b.le(UInt64.self, at: 32), pageCount: b.le(UInt64.self, at: 40),
                         txid: b.le(UInt64.self, at: 48))
        m.flags = b.le(UInt32.self, at: 12)
        m.rootSequence = b.le(UInt64.self, at: 24)
        if !BoltFormat.pageSizes.contains(Int(m.pageSize)) || m.pageSize & (m.pageSize - 1) != 0 {
            return .failure(.pageSize(m.pageSize))
        }
        if m.rootPage < 2 || m.rootPage >= m.pageCount { return .failure(.rootOutOfRange(root: m.rootPage, pageCount: m.pageCount)) }
        if m.freelistPage != BoltFormat.noFreelist && (m.freelistPage < 2 || m.freelistPage >= m.pageCount) {
            return .failure(.freelistOutOfRange(freelist: m.freelistPage, pageCount: m.pageCount))
        }
        return .success(m)
    }

    /// FNV-1a, 64 bit (Go's hash/fnv New64a).
    static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }
}
