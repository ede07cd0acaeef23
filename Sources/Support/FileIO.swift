#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, on which path, and `errno`.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: Int32

    public init(_ call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
}

/// File I/O with one policy for the whole program:
/// - reads and writes retry on EINTR and finish short transfers;
/// - a failed fsync or fdatasync is FATAL. After a failed fsync the kernel
///   may have dropped the dirty pages and marked them clean, so a retry
///   "succeeds" with the data gone (PostgreSQL's fsyncgate, 2018). The only
///   safe answer is to stop and recover from what is known durable.
public enum FileIO {
    /// Reads until `count` bytes or end of file; returns the bytes read.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: String = "") throws -> Int {
        var done = 0
        while done < count {
            let n = Glibc.read(fd, buffer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads up to `count` bytes at `offset`; shorter only at end of file.
    public static func pread(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: UInt64,
                             path: String = "") throws -> Int {
        var done = 0
        while done < count {
            let n = Glibc.pread(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("pread", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes`.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String = "") throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write", path: path, errno: errno)
            }
            done += n
        }
    }

    /// Writes all of `bytes` at `offset`.
    public static func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, path: String = "") throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("pwrite", path: path, errno: errno)
            }
            done += n
        }
    }

    /// fsync(2), or stop the process (see the type's policy).
    public static func fsync(_ fd: Int32, path: String) {
        if Glibc.fsync(fd) != 0 { durabilityLost("fsync", path: path, errno: errno) }
    }

    /// fdatasync(2), or stop the process (see the type's policy).
    public static func fdatasync(_ fd: Int32, path: String) {
        if Glibc.fdatasync(fd) != 0 { durabilityLost("fdatasync", path: path, errno: errno) }
    }

    /// Makes a directory's entries durable (a rename or a new file in it).
    /// Throws if the directory cannot be opened; a failed fsync stops the process.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SystemCallError("open dir", path: path, errno: errno) }
        defer { close(fd) }
        fsync(fd, path: path)
    }

    /// Where the fatal policy ends: the process stops with status 1.
    public static func durabilityLost(_ call: String, path: String, errno: Int32) -> Never {
        ProcessStop.fatal("\(SystemCallError(call, path: path, errno: errno)): data may not be durable; stopping")
    }
}
