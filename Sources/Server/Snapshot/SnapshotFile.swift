import Bolt
import Foundation
import MVCC
import Support

/// A snapshot file given to `snapshot restore|status`, recognised by its
/// content: an etcd backend (bbolt, from real etcd or swift-etcd today)
/// or an LMDB store copy (what swift-etcd streamed before it wrote etcd's
/// format), either one possibly followed by the SHA-256 of the database
/// part as `etcdctl snapshot save` appends it.
struct SnapshotFile {
    enum Format: Equatable { case etcdBackend, lmdb }

    let path: String
    let format: Format
    let sizeBytes: Int64
    /// etcd's hasChecksum: databases are whole 512-byte multiples, so a
    /// file 32 bytes past one carries the digest.
    var hasDigest: Bool { sizeBytes % 512 == Int64(SHA256.digestBytes) }
    /// The database part (the file without its digest).
    var databaseBytes: Int64 { hasDigest ? sizeBytes - Int64(SHA256.digestBytes) : sizeBytes }

    static let bboltMagic: UInt32 = BoltFormat.magic
    static let lmdbMagic: UInt32 = 0xBEEF_C0DE

    /// Opens `path` and tells its format from the magic both formats keep
    /// at byte 16 (the first meta page, after the 16-byte page header).
    init(path: String) throws {
        self.path = path
        var st = stat()
        if stat(path, &st) != 0 { throw RestoreError("open \(path): \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw RestoreError("\(path) is not a regular file") }
        sizeBytes = Int64(st.st_size)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw RestoreError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var magic: UInt32 = 0
        let n = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 4, 16) }
        switch n == 4 ? UInt32(littleEndian: magic) : 0 {
        case Self.bboltMagic: format = .etcdBackend
        case Self.lmdbMagic: format = .lmdb
        default: throw RestoreError("\(path): invalid database (neither an etcd snapshot nor a swift-etcd store copy)")
        }
    }

    /// Checks the appended SHA-256 as etcdutl does: a file without one is
    /// refused unless `skipHashCheck`; with one, it must match unless
    /// `skipHashCheck`. Reads the file once, in fixed-size pieces.
    func verifyDigest(skipHashCheck: Bool) throws {
        if !hasDigest && !skipHashCheck { throw RestoreError("snapshot missing hash but --skip-hash-check=false") }
        if databaseBytes <= 0 { throw RestoreError("\(path): snapshot is empty") }
        guard hasDigest && !skipHashCheck else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw RestoreError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: SnapshotFileCopy.chunkBytes)
        var done: Int64 = 0
        while done < databaseBytes {
            let want = Int(min(Int64(buffer.count), databaseBytes - done))
            let n = try buffer.withUnsafeMutableBytes { try FileIO.read(fd, into: $0.baseAddress!, count: want, path: path) }
            if n < want { throw RestoreError("\(path): unexpected end of file at byte \(done + Int64(n))") }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            done += Int64(n)
        }
        var expected = [UInt8](repeating: 0, count: SHA256.digestBytes)
        let n = try expected.withUnsafeMutableBytes { try FileIO.read(fd, into: $0.baseAddress!, count: SHA256.digestBytes, path: path) }
        let actual = hasher.finalize()
        if n != SHA256.digestBytes || expected != actual {
            throw RestoreError("expected sha256 \(SnapshotFileCopy.goBytes(expected)), got \(SnapshotFileCopy.goBytes(actual)): the snapshot file is corrupt or truncated")
        }
    }

    /// A checked reader of the database part (etcd format only).
    func boltReader() throws -> BoltReader {
        do {
            return try BoltReader(BoltFileSource(path: path, sizeBytes: databaseBytes))
        } catch let e as BoltReadError {
            throw RestoreError(e.description)
        }
    }
}

/// Splits a path into its directory ("." for none) and last component,
/// without Foundation's path APIs (NSString.deletingLastPathComponent
/// crashes on a one-character path in this toolchain's Foundation).
enum PathParts {
    static func split(_ path: String) -> (dir: String, name: String) {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return (".", String(p)) }
        let dir = p[..<slash]
        return (dir.isEmpty ? "/" : String(dir), String(p[p.index(after: slash)...]))
    }
}
