import CLMDB
import Foundation

/// A `data.mdb` that cannot or must not be opened: which file, the byte offset the
/// problem is at (nil when no single place applies), and what is wrong.
public struct StoreFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let offset: UInt64?
    public let reason: String
    /// The file could not be opened or read (permissions, I/O), rather than
    /// read and found damaged.
    public var unreadable = false

    public var description: String {
        "\(file)\(offset.map { " at offset \($0)" } ?? ""): \(reason)"
    }
}

/// Checks an LMDB file's meta pages and size before LMDB maps it.
///
/// LMDB trusts its file: a file shorter than its meta page says is mapped
/// anyway and the first read past the end is SIGBUS; a garbage root page is
/// followed wherever it points. Checked here, mirroring what
/// `mdb_env_read_header` and the first lookups rely on (lmdb.h / mdb.c
/// layout, 64-bit): both meta pages carry P_META, magic 0xBEEFC0DE and data
/// version 1; the newer one (higher txnid) names the last page, which must
/// lie inside the file; the roots of the free and main databases lie at or
/// below it and are branch or leaf pages that know their own number.
/// LMDB keeps no checksums, so damage inside other pages is not seen here
/// (the Hash/HashKV corruption checks compare stores across members).
enum StoreFileCheck {
    static let magic: UInt32 = 0xBEEF_C0DE
    static let dataVersion: UInt32 = 1
    static let pageHeaderBytes = 16
    static let invalidPage = UInt64.max
    /// Page flags (mdb.c): P_BRANCH 0x01, P_LEAF 0x02, P_META 0x08.
    static let branchOrLeaf: UInt16 = 0x03
    static let metaFlag: UInt16 = 0x08

    struct Meta {
        var pageSize: UInt64
        var freeRoot: UInt64
        var mainRoot: UInt64
        var lastPage: UInt64
        var txnID: UInt64
    }

    /// Checks `dataFile` if it exists (a missing one is a new store).
    static func verify(dataFile: String) throws {
        let fd = open(dataFile, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw StoreFileError(file: dataFile, offset: nil, reason: "cannot be opened: \(String(cString: strerror(errno)))",
                                 unreadable: true)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw StoreFileError(file: dataFile, offset: nil, reason: "not a regular file", unreadable: true)
        }
        try verify(file: dataFile, size: UInt64(st.st_size)) { offset, count in
            var buf = [UInt8](repeating: 0, count: count)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            guard n >= 0 else {
                throw StoreFileError(file: dataFile, offset: offset, reason: "cannot be read: \(String(cString: strerror(errno)))",
                                     unreadable: true)
            }
            return Array(buf[0..<n])
        }
    }

    /// LMDB's reader table (`lock.mdb`) holds nothing durable: LMDB rebuilds a
    /// damaged or missing one. Only something else in its place (a directory,
    /// a socket) or a file this user may not open stops it, and LMDB's own error
    /// would name the store directory.
    static func verify(lockFile: String) throws {
        var st = stat()
        guard lstat(lockFile, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw StoreFileError(file: lockFile, offset: nil, reason: "not a regular file", unreadable: true)
        }
        let fd = open(lockFile, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreFileError(file: lockFile, offset: nil, reason: "cannot be opened: \(String(cString: strerror(errno)))",
                                 unreadable: true)
        }
        close(fd)
    }

    /// LMDB errors that mean the file itself is bad, not the system.
    static func meansDamage(_ rc: Int32) -> Bool {
        [MDB_INVALID, MDB_CORRUPTED, MDB_VERSION_MISMATCH, MDB_PAGE_NOTFOUND, MDB_PANIC, EACCES, EISDIR].contains(rc)
    }

    /// Checks `file` (which must exist) through `read(offset, count)`, which
    /// returns fewer bytes only at the end of the file.
    static func verify(file: String, size: UInt64, read: (UInt64, Int) throws -> [UInt8]) throws {
        func damage(_ offset: UInt64?, _ reason: String) -> StoreFileError {
            StoreFileError(file: file, offset: offset, reason: reason)
        }
        let first = try meta(at: 0, pageSize: nil, file: file, size: size, read: read)
        let second = try meta(at: first.pageSize, pageSize: first.pageSize, file: file, size: size, read: read)
        let (current, at) = second.txnID > first.txnID ? (second, first.pageSize) : (first, UInt64(0))
        let needed = current.lastPage.multipliedReportingOverflow(by: current.pageSize)
        guard current.lastPage < (1 << 40), !needed.overflow, needed.partialValue + current.pageSize <= size else {
            throw damage(size, "the file is \(size) bytes but its meta page at offset \(at) (txn \(current.txnID)) " +
                         "uses pages up to \(current.lastPage) of \(current.pageSize) bytes: it was truncated")
        }
        for (name, root) in [("free-page", current.freeRoot), ("main", current.mainRoot)] where root != invalidPage {
            guard root <= current.lastPage else {
                throw damage(at, "the meta page names page \(root) as the \(name) database's root, past the last page \(current.lastPage)")
            }
            let offset = root * current.pageSize
            let page = try read(offset, pageHeaderBytes)
            let pgno = readLE64(page, 0), flags = readLE16(page, 10)
            guard page.count == pageHeaderBytes, pgno == root, flags & branchOrLeaf != 0 else {
                throw damage(offset, "the \(name) database's root page \(root) is not a B-tree page " +
                             "(it says page \(pgno), flags 0x\(String(flags, radix: 16)))")
            }
        }
    }

    private static func meta(at offset: UInt64, pageSize: UInt64?, file: String, size: UInt64,
                             read: (UInt64, Int) throws -> [UInt8]) throws -> Meta {
        func damage(_ reason: String) -> StoreFileError { StoreFileError(file: file, offset: offset, reason: reason) }
        let page = try read(offset, 152)
        guard page.count == 152 else {
            throw damage("the file is \(size) bytes, too short for its meta page \(offset == 0 ? 0 : 1)")
        }
        let flags = readLE16(page, 10), m = readLE32(page, 16), version = readLE32(page, 20)
        guard flags & metaFlag != 0, m == magic else {
            throw damage("meta page \(offset == 0 ? 0 : 1) is not an LMDB meta page (flags 0x\(String(flags, radix: 16)), " +
                         "magic 0x\(String(m, radix: 16)), expected 0x\(String(magic, radix: 16)))")
        }
        guard version == dataVersion else { throw damage("LMDB data version \(version), expected \(dataVersion)") }
        let ps = UInt64(readLE32(page, 40))
        guard ps >= 512, ps <= 65536, ps & (ps - 1) == 0, pageSize == nil || pageSize == ps else {
            throw damage("meta page \(offset == 0 ? 0 : 1) has page size \(ps)")
        }
        return Meta(pageSize: ps, freeRoot: readLE64(page, 40 + 40), mainRoot: readLE64(page, 88 + 40),
                    lastPage: readLE64(page, 136), txnID: readLE64(page, 144))
    }

    private static func readLE16(_ b: [UInt8], _ at: Int) -> UInt16 {
        guard at + 2 <= b.count else { return 0 }
        return UInt16(b[at]) | UInt16(b[at + 1]) << 8
    }

    private static func readLE32(_ b: [UInt8], _ at: Int) -> UInt32 {
        guard at + 4 <= b.count else { return 0 }
        return (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) }
    }

    private static func readLE64(_ b: [UInt8], _ at: Int) -> UInt64 {
        guard at + 8 <= b.count else { return 0 }
        return (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) }
    }
}
