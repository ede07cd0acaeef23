#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file read with `pread` (never mapped: a file truncated under us gives
/// an error, not a SIGBUS). The size is taken at open, or given (to read
/// only the database part of a snapshot that ends in a SHA-256).
public final class BoltFileSource: BoltByteSource {
    public let name: String
    public let sizeBytes: Int64
    private let fd: Int32

    public init(path: String, sizeBytes: Int64? = nil) throws {
        name = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw BoltReadError(file: path, offset: 0, reason: "open: \(String(cString: strerror(errno)))") }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            close(fd)
            throw BoltReadError(file: path, offset: 0, reason: "stat: \(String(cString: strerror(e)))")
        }
        self.sizeBytes = min(sizeBytes ?? Int64(st.st_size), Int64(st.st_size))
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                throw BoltReadError(file: name, offset: offset + Int64(done), reason: "read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw BoltReadError(file: name, offset: offset + Int64(done), reason: "unexpected end of file") }
            done += n
        }
    }
}
