import Glibc
public protocol WALFile: AnyObject {
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
    func size() throws -> UInt64
    func close() throws
}
public protocol WALFileSystem: AnyObject { func readFile(_ path: String) throws -> [UInt8] }
public final class PosixFileSystem: WALFileSystem {
    public init() {}
    public func openFile(_ path: String, create: Bool) throws -> any WALFile {
        let flags = create ? (O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC) : (O_RDWR | O_CLOEXEC)
        let fd = open(path, flags, 0o600)
        if fd < 0 { throw WALError.io(op: "open", path: path, errno: errno) }
        return PosixFile(fd: fd, path: path)
    }
    public func readFile(_ path: String) throws -> [UInt8] {
        let f = try openFile(path, create: false)
        defer { try? f.close() }
        return try f.read(at: 0, count: Int(try f.size()))
    }
}
final class PosixFile: WALFile {
    private var fd: Int32
    let path: String
    init(fd: Int32, path: String) { self.fd = fd; self.path = path }
    deinit { if fd >= 0 { Glibc.close(fd) } }
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < count {
                let n = pread(fd, buf.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw WALError.io(op: "pread", path: path, errno: errno)
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < count { out.removeLast(count - done) }
        return out
    }
    func size() throws -> UInt64 {
        var st = stat()
        if fstat(fd, &st) != 0 { throw WALError.io(op: "fstat", path: path, errno: errno) }
        return UInt64(st.st_size)
    }
    func close() throws {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw WALError.io(op: "close", path: path, errno: errno) }
    }
}
public enum WALError: Error { case io(op: String, path: String, errno: Int32) }
