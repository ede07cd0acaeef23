import Glibc

/// Ends the process when it cannot go on without risking committed data (a
/// failed fsync, a WAL or store that can no longer write).
///
/// The reason goes to stderr and the exit status is 1, as etcd's fatal log
/// ends. A trap (`fatalError`) would read as a crash to users and supervisors
/// ("Illegal instruction", a core dump) when the cause is the machine's: a full
/// disk or a failing device. `_exit` skips atexit handlers, so no other thread's
/// cleanup runs against state that is no longer trusted.
public enum ProcessStop {
    public static func fatal(_ reason: String) -> Never {
        let line = "swift-etcd: \(reason)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        _exit(1)
    }
}

/// Free space on the file system that holds a path, for error messages that
/// would otherwise leave a full disk to be guessed (LMDB reports a short write
/// as "Input/output error").
public enum FileSystemSpace {
    /// Bytes an unprivileged writer may still use, or nil if `statvfs` fails.
    public static func availableBytes(at path: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) &* UInt64(s.f_frsize)
    }

    /// " (N bytes free on the file system of PATH)", or "" when unknown.
    public static func note(for path: String) -> String {
        guard let free = availableBytes(at: path) else { return "" }
        return " (\(free) bytes free on the file system of \(path))"
    }
}
