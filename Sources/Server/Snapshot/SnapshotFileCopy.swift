import Foundation
#if canImport(Glibc)
import Glibc
import MVCC
#endif
import Support

/// Copies a saved snapshot (database ‖ SHA-256 of the database, as
/// `etcdctl snapshot save` writes it) while checking the digest, in fixed
/// size chunks whatever the file's size.
enum SnapshotFileCopy {
    static let chunkBytes = 1 << 20

    /// etcd's hasChecksum: databases are whole 512-byte multiples, so a file
    /// 32 bytes past one carries the digest.
    static func hasChecksum(sizeBytes: Int64) -> Bool { sizeBytes % 512 == Int64(SHA256.digestBytes) }

    /// Writes the database part of `source` to `destination` (fsynced) and
    /// verifies its SHA-256 unless `skipHashCheck`. Throws etcdutl's
    /// messages; the caller removes `destination` on failure.
    static func copyVerified(from source: String, to destination: String, skipHashCheck: Bool) throws {
        do { try copy(from: source, to: destination, skipHashCheck: skipHashCheck) } catch let e as SystemCallError {
            throw RestoreError(e.description)
        }
    }

    private static func copy(from source: String, to destination: String, skipHashCheck: Bool) throws {
        let input = open(source, O_RDONLY)
        if input < 0 { throw RestoreError("open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var st = stat()
        fstat(input, &st)
        let size = Int64(st.st_size)
        let hasHash = hasChecksum(sizeBytes: size)
        if !hasHash && !skipHashCheck { throw RestoreError("snapshot missing hash but --skip-hash-check=false") }
        let dbBytes = hasHash ? size - Int64(SHA256.digestBytes) : size
        if dbBytes <= 0 { throw RestoreError("\(source): snapshot is empty") }

        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if output < 0 { throw RestoreError("create \(destination): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        var copied: Int64 = 0
        while copied < dbBytes {
            let want = Int(min(Int64(chunkBytes), dbBytes - copied))
            let n = try buffer.withUnsafeMutableBytes { try FileIO.read(input, into: $0.baseAddress!, count: want, path: source) }
            if n < want { throw RestoreError("\(source): unexpected end of file at byte \(copied + Int64(n))") }
            try buffer.withUnsafeBytes { b in
                let chunk = UnsafeRawBufferPointer(rebasing: b[0..<n])
                hasher.update(chunk)
                try FileIO.write(output, chunk, path: destination)
            }
            copied += Int64(n)
        }
        if hasHash && !skipHashCheck {
            var expected = [UInt8](repeating: 0, count: SHA256.digestBytes)
            let n = try expected.withUnsafeMutableBytes {
                try FileIO.read(input, into: $0.baseAddress!, count: SHA256.digestBytes, path: source)
            }
            let actual = hasher.finalize()
            if n != SHA256.digestBytes || expected != actual {
                throw RestoreError("expected sha256 \(goBytes(expected)), got \(goBytes(actual)): the snapshot file is corrupt or truncated")
            }
        }
        FileIO.fsync(output, path: destination)
    }

    /// Go's `%v` of a byte slice, as etcdutl prints digests.
    static func goBytes(_ b: [UInt8]) -> String { "[" + b.map(String.init).joined(separator: " ") + "]" }
}
