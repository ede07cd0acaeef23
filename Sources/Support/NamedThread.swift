import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Thread {
    /// A thread named `name` where the OS shows it too (`top -H`, `perf`,
    /// /proc/<pid>/task/*/comm): on Linux Foundation's `name` stays inside
    /// Foundation, and a new thread otherwise keeps its creator's name (often
    /// a Swift concurrency pool thread's "com.apple.root.default-qos"). Linux
    /// keeps the first 15 bytes. Not started.
    public static func named(_ name: String, _ body: @escaping @Sendable () -> Void) -> Thread {
        let t = Thread {
            setCurrentThreadName(name)
            body()
        }
        t.name = name
        return t
    }
}

/// Names the calling thread for the OS (Linux keeps 15 bytes; longer names
/// are cut). Through /proc/thread-self/comm: Swift's Glibc module does not
/// export pthread_setname_np. Best effort: a failure leaves the old name.
public func setCurrentThreadName(_ name: String) {
    #if os(Linux)
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = try? bytes.withUnsafeBytes { try FileIO.write(fd, $0) }
    #endif
}
