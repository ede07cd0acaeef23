#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex and condition variable whose timed waits run on CLOCK_MONOTONIC.
///
/// Foundation's `NSCondition.wait(until:)` takes a wall-clock `Date` and
/// waits on CLOCK_REALTIME: when the wall clock is stepped back (NTP, an
/// operator, a VM restored from a snapshot), the wait lasts until the wall
/// clock reaches the deadline again, an hour for a one-hour step. A thread
/// that sleeps between rounds with it (the Raft loop's ticks) then stalls
/// as long. Deadlines here are `MonotonicClock.nanoseconds()` values, which
/// no clock step moves.
public final class MonotonicCondition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        #if canImport(Glibc)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    public func signal() { pthread_cond_signal(cond) }
    public func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits for a signal, holding the lock on entry and on return.
    public func wait() { pthread_cond_wait(cond, mutex) }

    /// Waits for a signal or until `MonotonicClock.nanoseconds()` reaches
    /// `deadlineNanos`, holding the lock on entry and on return; false once
    /// the deadline passed. Wakes spuriously too: callers recheck their
    /// condition and the clock.
    @discardableResult
    public func wait(untilNanoseconds deadlineNanos: UInt64) -> Bool {
        guard MonotonicClock.nanoseconds() < deadlineNanos else { return false }
        #if canImport(Glibc)
        var ts = timespec(tv_sec: Int(deadlineNanos / 1_000_000_000), tv_nsec: Int(deadlineNanos % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) == 0
        #else
        let left = deadlineNanos - MonotonicClock.nanoseconds()
        var ts = timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
        return pthread_cond_timedwait_relative_np(cond, mutex, &ts) == 0
        #endif
    }

    /// `wait(untilNanoseconds:)` `seconds` from now.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        wait(untilNanoseconds: MonotonicClock.deadline(afterSeconds: seconds))
    }
}

extension MonotonicClock {
    /// `nanoseconds()` `seconds` from now (negative or NaN: now; saturating).
    public static func deadline(afterSeconds seconds: Double) -> UInt64 {
        let now = nanoseconds()
        guard seconds > 0 else { return now }
        let add = seconds * 1e9
        guard add < Double(UInt64.max - now) else { return .max }
        return now + UInt64(add)
    }
}
