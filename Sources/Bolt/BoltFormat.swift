/// bbolt's on-disk format (file format version 2), the backend file etcd
/// keeps in `member/snap/db` and streams as a snapshot.
///
/// The file is an array of pages of `pageSize` bytes (4096 on etcd's
/// platforms). Every page starts with a 16-byte header (little endian):
/// `id u64 | flags u16 | count u16 | overflow u32`; a page whose contents do
/// not fit spans `overflow` more pages right after it.
/// - Pages 0 and 1 are meta pages (`BoltMeta`); readers use the valid one
///   with the higher transaction id.
/// - A freelist page lists free page ids (`count` u64s; 0xFFFF in `count`
///   means the real count is the first u64). etcd runs with the freelist
///   unsynced: its meta says `noFreelist` and readers rebuild the list.
/// - Branch pages: `count` elements `pos u32 | ksize u32 | pgid u64`, then
///   the keys; each key is the first key of the child page.
/// - Leaf pages: `count` elements `flags u32 | pos u32 | ksize u32 | vsize u32`,
///   then each key followed by its value. `pos` counts from the element's
///   own first byte.
/// - Buckets are B+trees. The root bucket maps bucket names (leaf flag
///   `bucketLeafFlag`) to a 16-byte header `root u64 | sequence u64`; root 0
///   means an inline bucket whose single leaf page follows the header inside
///   the value.
public enum BoltFormat {
    public static let magic: UInt32 = 0xED0C_DAED
    public static let version: UInt32 = 2
    public static let defaultPageSize = 4096
    /// Page sizes a reader accepts (bbolt uses the OS page size).
    public static let pageSizes = 512...65536
    public static let pageHeaderBytes = 16
    public static let elementBytes = 16
    public static let bucketHeaderBytes = 16
    /// The meta's freelist page when the freelist is not stored.
    public static let noFreelist = UInt64.max
    /// A leaf element that is a nested bucket.
    public static let bucketLeafFlag: UInt32 = 0x01

    public static let branchPageFlag: UInt16 = 0x01
    public static let leafPageFlag: UInt16 = 0x02
    public static let metaPageFlag: UInt16 = 0x04
    public static let freelistPageFlag: UInt16 = 0x10
}

/// The 16-byte header of every page.
public struct BoltPageHeader: Equatable, Sendable {
    public var id: UInt64
    public var flags: UInt16
    public var count: UInt16
    /// Pages after this one that belong to it.
    public var overflow: UInt32

    public init(id: UInt64, flags: UInt16, count: UInt16, overflow: UInt32) {
        self.id = id
        self.flags = flags
        self.count = count
        self.overflow = overflow
    }

    /// Reads a header from the first 16 bytes of `page` (which must hold them).
    init(_ page: UnsafeRawBufferPointer) {
        id = page.le(UInt64.self, at: 0)
        flags = page.le(UInt16.self, at: 8)
        count = page.le(UInt16.self, at: 10)
        overflow = page.le(UInt32.self, at: 12)
    }

    func write(to page: UnsafeMutableRawBufferPointer) {
        page.storeBytes(of: id.littleEndian, toByteOffset: 0, as: UInt64.self)
        page.storeBytes(of: flags.littleEndian, toByteOffset: 8, as: UInt16.self)
        page.storeBytes(of: count.littleEndian, toByteOffset: 10, as: UInt16.self)
        page.storeBytes(of: overflow.littleEndian, toByteOffset: 12, as: UInt32.self)
    }
}

extension UnsafeRawBufferPointer {
    /// A little-endian integer at `offset` (the caller checked the bounds).
    @inline(__always)
    func le<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
