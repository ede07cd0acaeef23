import Foundation

/// One process per data dir: an exclusive `flock` on `<data-dir>/swift-etcd.lock`,
/// taken before any other file of the dir is opened and held for the life
/// of the process (the kernel drops it when the process dies, even by
/// `kill -9`, so a stale lock never blocks a restart). etcd gets the same
/// guarantee from flocking its bbolt file.
///
/// Why a lock file and not the LMDB file: `data.mdb` is replaced by a
/// rename when the store is defragmented or a snapshot from the leader is
/// installed, and a lock on the old inode would then protect nothing. LMDB's
/// own `lock.mdb` holds fcntl locks meant to let processes share the store,
/// which is exactly what must not happen here. The lock file is never
/// replaced, and it exists before `member/` so it also covers a dir that a
/// `snapshot restore` is still building. It holds the owner's pid, for the
/// message a refused process prints.
///
/// A struct with an explicit `release()` rather than a class with a deinit:
/// the owner decides the lifetime (`EtcdServer` holds it until exit).
struct DataDirLock {
    static let fileName = "swift-etcd.lock"
    let path: String
    private let fd: Int32

    /// The dir is held by another process.
    struct InUse: Error, CustomStringConvertible {
        let dataDir: String
        let lockPath: String
        /// The holder's pid as written in the file ("" when unreadable).
        let holder: String
        var description: String {
            let who = holder.isEmpty ? "another process" : "another process (pid \(holder))"
            return "data-dir \"\(dataDir)\" is in use by \(who), which holds the lock \(lockPath): " +
                "stop that process first, or give this one another --data-dir"
        }
    }

    static func lockPath(dataDir: String) -> String {
        (dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir) + "/" + fileName
    }

    /// Takes the lock at once or throws `InUse` (never waits). Creates the
    /// data dir (mode 0700, as etcd) and the lock file when missing.
    static func acquire(dataDir: String) throws -> DataDirLock {
        try makeDirectories(dataDir)
        let path = lockPath(dataDir: dataDir)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw StartupError("cannot open the data-dir lock \(path): \(describe(errno))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            let holder = readHolder(fd)
            close(fd)
            if e == EWOULDBLOCK { throw InUse(dataDir: dataDir, lockPath: path, holder: holder) }
            throw StartupError("cannot lock \(path): \(describe(e))")
        }
        // Best effort: the pid only makes the refusal message clearer.
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        return DataDirLock(path: path, fd: fd)
    }

    /// Throws `InUse` if a process holds `dataDir`'s lock; creates nothing
    /// (a dir without a lock file has no process on it).
    static func checkNotInUse(dataDir: String) throws {
        let path = lockPath(dataDir: dataDir)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { throw InUse(dataDir: dataDir, lockPath: path, holder: readHolder(fd)) }
            return
        }
        _ = flock(fd, LOCK_UN)
    }

    /// Drops the lock (closing the descriptor releases the flock).
    func release() { close(fd) }

    private static func readHolder(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return "" }
        return String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part + "/"
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw StartupError("cannot create data-dir \(path): mkdir \(prefix): \(describe(errno))")
            }
        }
    }

    private static func describe(_ e: Int32) -> String { String(cString: strerror(e)) }
}
