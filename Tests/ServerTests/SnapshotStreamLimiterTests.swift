import Testing
@testable import Server

/// At most `limit` snapshot streams run; the rest wait in order and stop
/// waiting when their task is cancelled (the client left).
@Suite struct SnapshotStreamLimiterTests {
    @Test func boundsRunningStreamsAndHandsSlotsOn() async throws {
        let limiter = SnapshotStreamLimiter(limit: 2)
        try await limiter.acquire()
        try await limiter.acquire()
        let third = Task { try await limiter.acquire() }
        while limiter.counts.waiting < 1 { await Task.yield() }
        #expect(limiter.counts == (running: 2, waiting: 1))
        limiter.release()
        try await third.value
        #expect(limiter.counts == (running: 2, waiting: 0))
        limiter.release()
        limiter.release()
        #expect(limiter.counts == (running: 0, waiting: 0))
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        let limiter = SnapshotStreamLimiter(limit: 1)
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        while limiter.counts.waiting < 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.counts == (running: 1, waiting: 0))
        limiter.release()
        try await limiter.acquire()  // the slot came back
        limiter.release()
    }
}
