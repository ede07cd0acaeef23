import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import GRPCWire

/// The connection budget listeners share (issue 18, item 6).
@Suite struct ConnectionLimiterTests {
    @Test func budgetIsSharedAndFreedOnClose() throws {
        let limiter = ConnectionLimiter(maxConnections: 2)
        let logger = Logger(label: "test")
        let a = EmbeddedChannel(), b = EmbeddedChannel(), c = EmbeddedChannel()
        #expect(limiter.admit(a, listener: "client", logger: logger))
        #expect(limiter.admit(b, listener: "peer", logger: logger))
        #expect(!limiter.admit(c, listener: "client", logger: logger))
        #expect(limiter.openConnections == 2)
        _ = try a.finish()
        #expect(limiter.openConnections == 1)
        #expect(limiter.admit(c, listener: "client", logger: logger))
        _ = try b.finish()
        _ = try c.finish()
        #expect(limiter.openConnections == 0)
    }

    @Test func defaultBudgetLeavesTheReserve() {
        #expect(ConnectionLimiter.cap(forDescriptorLimit: 1024) == 1024 - ConnectionLimiter.reservedDescriptors)
        #expect(ConnectionLimiter.cap(forDescriptorLimit: 200) == 100)  // small limits: half
        #expect(ConnectionLimiter.cap(forDescriptorLimit: 1) == 1)
        #expect(ConnectionLimiter.cap(forDescriptorLimit: .max) == .max - ConnectionLimiter.reservedDescriptors)
    }
}
