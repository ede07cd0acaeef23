import Foundation

/// Reading the certificate, key, CA and CRL files, with Go's error texts
/// (etcd prints `open server.crt: no such file or directory`), and the
/// stamp that tells whether a file changed since it was read.
enum TLSFile {
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    /// The whole file; errors read like Go's `os.ReadFile`.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(description: "open \(path): \(errnoText(errno))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(description: "read \(path): \(errnoText(errno))")
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            // A certificate bundle is kilobytes; refuse to read a huge file whole.
            if out.count > 16 << 20 { throw ReadError(description: "read \(path): file too large") }
        }
    }

    /// What changes when a file is rewritten or replaced (rename over it).
    struct Stamp: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedNanoseconds: Int64
        var changedNanoseconds: Int64
    }

    /// nil when the file cannot be stat'ed (missing): it then differs from any stamp.
    static func stamp(_ path: String) -> Stamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Stamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                     modifiedNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                     changedNanoseconds: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
    }

    /// Go's texts for the errors a file open meets.
    static func errnoText(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case EACCES: return "permission denied"
        case EISDIR: return "is a directory"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
