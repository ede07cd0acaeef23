import Foundation

/// Whether another process uses a data dir, for offline tools (`defrag`):
/// an exclusive `flock` on `<data-dir>/swift-etcd.lock` (what a running
/// member holds), and, for members that predate the lock file, any process
/// with the store file open (found through /proc).
struct DataDirInUse {
    private let fd: Int32

    static func claim(dataDir: String, dbPath: String) throws -> DataDirInUse {
        let fd = open(dataDir + "/swift-etcd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OfflineDefrag.Failure(description: "cannot open \(dataDir)/swift-etcd.lock: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw inUse(dataDir, by: nil)
        }
        if let pid = processHolding(dbPath + "/data.mdb") {
            close(fd)
            throw inUse(dataDir, by: pid)
        }
        return DataDirInUse(fd: fd)
    }

    func release() { close(fd) }

    private static func inUse(_ dataDir: String, by pid: Int32?) -> OfflineDefrag.Failure {
        let who = pid.map { " by process \($0)" } ?? ""
        return OfflineDefrag.Failure(description: "data dir \(dataDir) is in use\(who); stop the member before defragmenting it offline (or run `etcdctl defrag` against it online)")
    }

    /// Another process with `path` open, by its /proc/<pid>/fd links.
    static func processHolding(_ path: String) -> Int32? {
        let target = (path as NSString).resolvingSymlinksInPath
        let me = getpid()
        guard let pids = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in pids {
            guard let pid = Int32(entry), pid != me,
                  let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for fd in fds {
                if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)"), link == target {
                    return pid
                }
            }
        }
        return nil
    }
}
