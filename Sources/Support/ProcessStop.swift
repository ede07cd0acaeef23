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
