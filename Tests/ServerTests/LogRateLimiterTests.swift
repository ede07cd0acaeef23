@testable import Server
import Testing

/// Repeated peer-failure lines: one per key per interval, with the count held back.
@Suite struct LogRateLimiterTests {
    @Test func oneLinePerKeyPerIntervalCountingTheRest() {
        let limiter = LogRateLimiter(intervalSeconds: 10)
        let s: UInt64 = 1_000_000_000
        #expect(limiter.admit("a", now: 100 * s) == 0)
        #expect(limiter.admit("a", now: 101 * s) == nil)
        #expect(limiter.admit("a", now: 109 * s) == nil)
        #expect(limiter.admit("b", now: 109 * s) == 0)
        #expect(limiter.admit("a", now: 110 * s) == 2)
        #expect(limiter.admit("a", now: 111 * s) == nil)
    }

    @Test func keysAreBounded() {
        let limiter = LogRateLimiter(intervalSeconds: 10)
        for i in 0..<(LogRateLimiter.maxKeys * 3) { #expect(limiter.admit("k\(i)", now: 5) == 0) }
        // The table was cleared on the way: an early key is admitted again.
        #expect(limiter.admit("k0", now: 6) == 0)
    }
}
