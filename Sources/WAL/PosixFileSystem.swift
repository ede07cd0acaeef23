#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// The real file system: `pwrite`, `fdatasync`, `posix_fallocate`, `rename`, directory `fsync`.
public final class PosixFileSystem: WALFileSystem {
    public init() {}

    public func listDirectory(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw WALError.io(op: "opendir", path: path, errno: errno) }
        defer { closedir(d) }
        var names: [String] = []
        while let ent = readdir(d) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func createDirectory(_ path: String) throws {
        if fileExists(path) { return }
        let parent = parentDirectory(path)
        if !parent.isEmpty && parent != path { try createDirectory(parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw WALError.io(op: "mkdir", path: path, errno: errno)
        }
        if !parent.isEmpty { try syncDirectory(parent) }
    }

    public func openFile(_ path: String, create: Bool) throws -> any WALFile {
        let flags = create ? (O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC) : (O_RDWR | O_CLOEXEC)
        let fd = open(path, flags, 0o600)
        if fd < 0 { throw WALError.io(op: "open", path: path, errno: errno) }
        return PosixFile(fd: fd, path: path)
    }

    /// Reads a whole file through a bare descriptor, not through `PosixFile`.
    ///
    /// The earlier `openFile` + `defer { try? f.close() }` form is miscompiled
    /// by Swift 6.3.1 at `-O`: the optimiser stack-promotes the `PosixFile`,
    /// marks it `[bare]` (object header never written), merges its
    /// deallocation paths into a phi and then lowers that `dealloc_ref` to
    /// `swift_deallocClassInstance` on the uninitialised stack slot. Whether
    /// that crashed depended on stale stack bytes: every restart of the
    /// release binary did (issue 13). The reproducer and the test that scans
    /// the release binary for the pattern are in `Tests/CompilerDefects/`.
    public func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw WALError.io(op: "open", path: path, errno: errno) }
        defer { Glibc.close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw WALError.io(op: "fstat", path: path, errno: errno) }
        return try preadFully(fd: fd, path: path, at: 0, count: Int(st.st_size))
    }

    /// Bare descriptors here too (see `readFile`).
    public func read(_ path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw WALError.io(op: "open", path: path, errno: errno) }
        defer { Glibc.close(fd) }
        return try preadFully(fd: fd, path: path, at: offset, into: buffer)
    }

    public func fileSize(_ path: String) throws -> UInt64 {
        var st = stat()
        if stat(path, &st) != 0 { throw WALError.io(op: "stat", path: path, errno: errno) }
        return UInt64(st.st_size)
    }

    public func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 { throw WALError.io(op: "rename", path: from, errno: errno) }
    }

    public func removeFile(_ path: String) throws {
        if unlink(path) != 0 { throw WALError.io(op: "unlink", path: path, errno: errno) }
    }

    /// A failed fsync stops the process (`FileIO`'s policy).
    public func syncDirectory(_ path: String) throws {
        do { try FileIO.syncDirectory(path) } catch let e as SystemCallError { throw WALError(e) }
    }
}

extension WALError {
    init(_ e: SystemCallError) { self = .io(op: e.call, path: e.path, errno: e.errno) }
}

/// Reads up to `count` bytes at `offset`; shorter only at end of file.
func preadFully(fd: Int32, path: String, at offset: UInt64, count: Int) throws -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    let done = try out.withUnsafeMutableBytes { try preadFully(fd: fd, path: path, at: offset, into: $0) }
    if done < count { out.removeLast(count - done) }
    return out
}

/// Fills `buffer` from `offset`, retrying on EINTR; returns the bytes read
/// (fewer only at end of file).
func preadFully(fd: Int32, path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
    do { return try FileIO.pread(fd, into: base, count: buffer.count, at: offset, path: path) } catch let e as SystemCallError {
        throw WALError(e)
    }
}

func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

final class PosixFile: WALFile {
    private var fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        guard !bytes.isEmpty else { return }
        do { try bytes.withUnsafeBytes { try FileIO.pwrite(fd, $0, at: offset, path: path) } } catch let e as SystemCallError {
            throw WALError(e)
        }
    }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        try preadFully(fd: fd, path: path, at: offset, count: count)
    }

    func size() throws -> UInt64 {
        var st = stat()
        if fstat(fd, &st) != 0 { throw WALError.io(op: "fstat", path: path, errno: errno) }
        return UInt64(st.st_size)
    }

    /// A failed fdatasync stops the process (`FileIO`'s policy).
    func sync() throws { FileIO.fdatasync(fd, path: path) }

    /// Linux's sync_file_range(SYNC_FILE_RANGE_WRITE): the range's data goes
    /// to the device now, so work done before the `sync` that follows
    /// overlaps the write. Errors are left to that `sync`.
    func startWriteback(offset: UInt64, count: Int) {
        guard let start = Self.syncFileRange, count > 0 else { return }
        _ = start(fd, Int64(offset), Int64(count), 2)  // SYNC_FILE_RANGE_WRITE
    }

    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    /// Looked up at run time: Glibc's Swift module does not export it (and
    /// other systems lack it).
    private static let syncFileRange: SyncFileRange? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
        #else
        return nil
        #endif
    }()

    func truncate(to size: UInt64) throws {
        if ftruncate(fd, off_t(size)) != 0 { throw WALError.io(op: "ftruncate", path: path, errno: errno) }
    }

    func preallocate(_ size: UInt64) throws {
        // posix_fallocate returns the error number instead of setting errno.
        let rc = posix_fallocate(fd, 0, off_t(size))
        if rc != 0 && rc != EOPNOTSUPP && rc != EINVAL {
            throw WALError.io(op: "posix_fallocate", path: path, errno: rc)
        }
    }

    func close() throws {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw WALError.io(op: "close", path: path, errno: errno) }
    }
}
