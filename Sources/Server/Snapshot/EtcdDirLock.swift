import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Holds shared locks on a stopped etcd member's files while they are read,
/// and refuses a data dir another process holds: a running etcd keeps an
/// exclusive `flock` on `member/snap/db` (bbolt) and an exclusive
/// open-file-description lock on each WAL segment it has open.
final class EtcdDirLock {
    private var fds: [Int32] = []
    /// Linux's F_OFD_SETLK (glibc's macro is not imported into Swift).
    static let ofdSetLock: Int32 = 37

    init(db: String, walDir: String) throws {
        do {
            try lockShared(db, ofd: false)
            let segments = ((try? FileManager.default.contentsOfDirectory(atPath: walDir)) ?? []).filter { $0.hasSuffix(".wal") }
            for name in segments { try lockShared(walDir + "/" + name, ofd: true) }
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    func release() {
        for fd in fds { close(fd) }
        fds.removeAll()
    }

    private func lockShared(_ path: String, ofd: Bool) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw RestoreError("open \(path): \(String(cString: strerror(errno)))") }
        fds.append(fd)
        let locked: Bool
        if ofd {
            var lock = flock()
            lock.l_type = Int16(F_RDLCK)
            lock.l_whence = Int16(SEEK_SET)
            locked = fcntl(fd, Self.ofdSetLock, &lock) == 0
        } else {
            locked = flock(fd, LOCK_SH | LOCK_NB) == 0
        }
        if !locked {
            let e = errno
            if e == EWOULDBLOCK || e == EAGAIN || e == EACCES {
                throw RestoreError("\(path) is locked by another process: stop the etcd member before migrating its data dir")
            }
            throw RestoreError("lock \(path): \(String(cString: strerror(e)))")
        }
    }
}
