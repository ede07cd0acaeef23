import NIOCore
import Testing
@testable import GRPCWire

/// The per-connection bounds a client that never reads meets
/// (H2ConnectionHandler+Admission, `maxConnectionHeaderBytes`).
@Suite(.serialized, .timeLimit(.minutes(1))) struct AdmissionTests {
    /// Past the running-call cap a unary call waits: it never ran, so its
    /// deadline ends it (an echo that ran would answer OK at once).
    @Test func unaryCallsBeyondTheRunningCapWait() async throws {
        try await withTestServer({ $0.maxRunningUnaryCalls = 1 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let sleeping = client.start("/test.Echo/Sleep", body: framed([[]]))
            let waiting = try await client.unary("/test.Echo/Unary", [1], headers: [("grpc-timeout", "1S")])
            #expect(waiting.grpcStatus == 4, "\(waiting)")  // DEADLINE_EXCEEDED
            // Another connection has its own budget.
            let other = try await H2TestClient.connect(port: port, group: group)
            #expect(try await other.unary("/test.Echo/Unary", [2]).messages == [[2]])
            await other.close()
            await client.close()
            _ = try? await sleeping.get()
        }
    }

    /// Calls that may wait on another call of the same client (a lock, a
    /// campaign) are not counted, so they cannot block the one that releases them.
    @Test func exemptMethodsNeitherWaitNorBlock() async throws {
        try await withTestServer({
            $0.maxRunningUnaryCalls = 1
            $0.admissionExemptPathPrefixes = ["/test.Echo/Sleep"]
        }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let sleeping = (0..<3).map { _ in client.start("/test.Echo/Sleep", body: framed([[]])) }
            #expect(try await client.unary("/test.Echo/Unary", [3]).messages == [[3]])
            await client.close()
            for s in sleeping { _ = try? await s.get() }
        }
    }

    /// The server-wide budget: once a client that does not read holds it
    /// full, a connection with a call running waits for room, a connection
    /// with nothing queued still gets its one call, and the waiting call
    /// starts when the slow client's bytes go away.
    @Test func serverWideBudgetHoldsBackBusyConnectionsOnly() async throws {
        let budget = ByteBudget(totalBytes: 1000)
        try await withTestServer({ $0.responseBudget = budget }) { port, group, _ in
            // A zero window: its 4 KB answer stays queued in the server.
            let slow = try await H2TestClient.connect(port: port, group: group, windowBytes: 0)
            let stuck = slow.start("/test.Echo/Unary", body: framed([[UInt8](repeating: 1, count: 4096)]))
            while budget.bytesInUse < 1000 { try await Task.sleep(for: .milliseconds(10)) }  // hang guard: the suite's time limit

            let (busy, sleeping, waiting) = try await Self.onlyBusyConnectionsWait(port: port, group: group)

            await slow.close()  // its queued answer is dropped: room again
            #expect(try await waiting.get().messages == [[2]])
            _ = try? await stuck.get()
            await busy.close()
            _ = try? await sleeping.get()
            #expect(budget.bytesInUse == 0)
        }
    }

    /// The server-wide request budget: large requests running on one
    /// connection hold back a connection that already runs a call, never one
    /// that runs nothing; the waiting call starts once those bytes are freed.
    @Test func requestBudgetHoldsBackBusyConnectionsOnly() async throws {
        let budget = ByteBudget(totalBytes: 1000)
        try await withTestServer({ $0.requestBudget = budget }) { port, group, _ in
            let big = try await H2TestClient.connect(port: port, group: group)
            let holding = big.start("/test.Echo/Sleep", body: framed([[UInt8](repeating: 1, count: 2000)]))
            while budget.bytesInUse < 1000 { try await Task.sleep(for: .milliseconds(10)) }  // hang guard: the suite's time limit

            let (busy, sleeping, waiting) = try await Self.onlyBusyConnectionsWait(port: port, group: group)

            await big.close()  // its call is cancelled and its request bytes freed
            #expect(try await waiting.get().messages == [[2]])
            _ = try? await holding.get()
            await busy.close()
            _ = try? await sleeping.get()
            while budget.bytesInUse != 0 { try await Task.sleep(for: .milliseconds(10)) }  // every count given back
        }
    }

    /// With a server-wide budget full: a connection with nothing queued or
    /// running starts its call (a Sleep, `sleeping`), its next call waits and
    /// never runs (its deadline ends it), a third call is left `waiting`, and a
    /// fresh connection is served at once.
    static func onlyBusyConnectionsWait(port: Int, group: any EventLoopGroup) async throws
        -> (busy: H2TestClient, sleeping: EventLoopFuture<TestResponse>, waiting: EventLoopFuture<TestResponse>) {
        let busy = try await H2TestClient.connect(port: port, group: group)
        // Nothing queued or running: starts (and is running before the next request arrives).
        let sleeping = busy.start("/test.Echo/Sleep", body: framed([[]]))
        let timedOut = try await busy.unary("/test.Echo/Unary", [1], headers: [("grpc-timeout", "1S")])
        #expect(timedOut.grpcStatus == 4, "\(timedOut)")  // waited (never ran): DEADLINE_EXCEEDED
        let waiting = busy.start("/test.Echo/Unary", body: framed([[2]]))

        let fresh = try await H2TestClient.connect(port: port, group: group)
        #expect(try await fresh.unary("/test.Echo/Unary", [3]).messages == [[3]])
        await fresh.close()
        return (busy, sleeping, waiting)
    }

    /// Header bytes are bounded per connection, not only per stream: the
    /// stream that would pass the bound is reset, the others go on.
    @Test func headerBytesAreBoundedPerConnection() async throws {
        try await withTestServer({ $0.maxConnectionHeaderBytes = 8192 }) { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let big = [("x-big", String(repeating: "a", count: 3000))]
            let open = (0..<2).map { _ in client.start("/test.Echo/Bidi", body: [], headers: big, endRequest: false) }
            let refused = try await client.call("/test.Echo/Unary", body: framed([[1]]), headers: big)
            #expect(refused.errorCode != 0 && refused.grpcStatus == nil, "\(refused)")
            #expect(try await client.unary("/test.Echo/Unary", [4]).messages == [[4]])
            await client.close()
            for call in open { _ = try? await call.get() }
            // A new connection starts from zero.
            let fresh = try await H2TestClient.connect(port: port, group: group)
            #expect(try await fresh.unary("/test.Echo/Unary", [5], headers: big).messages == [[5]])
            await fresh.close()
        }
    }
}
