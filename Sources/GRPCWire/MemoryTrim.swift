#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Gives freed heap memory back to the OS after a burst of large buffers.
///
/// glibc keeps what a thread's arena freed for reuse: after a connection
/// that never read had us build and drop a few thousand 1 MB responses, the
/// process kept ~1.7 GB resident with < 10 MB in use (malloc_stats), until
/// `malloc_trim(0)`. Requests are coalesced: one trim runs on NIO's blocking
/// thread pool `delay` after the first request of a burst (trimming
/// walks every arena under its lock, so not once per connection, and not on
/// an event loop). A no-op where the C library has no `malloc_trim`.
enum MemoryTrim {
    static let delay = TimeAmount.seconds(1)
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

    /// `loop` only times the delay; the trim itself runs off it.
    static func request(on loop: any EventLoop) {
        guard trim != nil else { return }
        let first = scheduled.withLockedValue { wasScheduled -> Bool in
            defer { wasScheduled = true }
            return !wasScheduled
        }
        guard first else { return }
        loop.scheduleTask(in: delay) {
            NIOThreadPool.singleton.submit { _ in
                scheduled.withLockedValue { $0 = false }
                _ = trim?(0)
            }
        }
    }
}
