#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import NIOConcurrencyHelpers

/// Gives freed heap memory back to the OS after a burst of large buffers.
///
/// glibc keeps what a thread's arena freed for reuse: after a connection
/// that never read had us build and drop a few thousand 1 MB responses, the
/// process kept ~1.7 GB resident with < 10 MB in use (malloc_stats), until
/// `malloc_trim(0)`. Requests are coalesced: one trim runs on a background
/// queue `delaySeconds` after the first request of a burst (trimming walks
/// every arena under its lock, so not once per connection). A no-op where
/// the C library has no `malloc_trim`.
enum MemoryTrim {
    static let delaySeconds = 1.0
    private static let scheduled = NIOLockedValueBox(false)
    private typealias TrimFunction = @convention(c) (Int) -> Int32

    /// Looked up at run time: not every C library has it, and Glibc's Swift module does not export it.
    private static let trim: TrimFunction? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: TrimFunction.self)
        #else
        return nil
        #endif
    }()

    static func request() {
        guard trim != nil else { return }
        let first = scheduled.withLockedValue { wasScheduled -> Bool in
            defer { wasScheduled = true }
            return !wasScheduled
        }
        guard first else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + delaySeconds) {
            scheduled.withLockedValue { $0 = false }
            _ = trim?(0)
        }
    }
}
