import NIOCore
import Testing
@testable import GRPCWire

/// The per-connection deadline heap (one timer per connection instead of one per call).
@Suite(.timeLimit(.minutes(1))) struct DeadlineQueueTests {
    private func at(_ n: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000_000 + n)) }

    /// Entries come out in deadline order whatever the insertion order, only once due.
    @Test func popsDueEntriesEarliestFirst() {
        var q = DeadlineQueue()
        var rng = SystemRandomNumberGenerator()
        var inserted: [(Int64, Int32)] = []
        for id in 0..<2_000 {
            let d = Int64.random(in: 0..<10_000, using: &rng)
            q.insert(at(d), streamID: Int32(id))
            inserted.append((d, Int32(id)))
        }
        #expect(q.earliest == at(inserted.map(\.0).min()!))
        var popped: [Int32] = []
        for now in stride(from: Int64(0), through: 10_000, by: 997) {
            let due = q.popDue(at(now))
            for id in due { #expect(inserted[Int(id)].0 <= now) }
            if let next = q.earliest { #expect(next > at(now)) }
            popped += due
        }
        popped += q.popDue(at(20_000))
        #expect(q.isEmpty)
        let order = popped.map { inserted[Int($0)].0 }
        #expect(order == order.sorted())
        #expect(Set(popped).count == 2_000)
    }

    /// Compaction keeps exactly the live entries, still in heap order.
    @Test func compactKeepsLiveEntriesInOrder() {
        var q = DeadlineQueue()
        for id in 0..<1_000 { q.insert(at(Int64((id * 7919) % 1_000)), streamID: Int32(id)) }
        q.compact { $0 % 3 == 0 }
        #expect(q.count == 334)
        let popped = q.popDue(at(1_000))
        #expect(popped.allSatisfy { $0 % 3 == 0 } && popped.count == 334)
        let order = popped.map { ($0 * 7919) % 1_000 }
        #expect(order == order.sorted())
    }

    /// Through a server: a later call with an earlier deadline ends first
    /// (the connection's one timer is re-armed), calls that answered in time
    /// are untouched, and after many answered calls (stale entries compacted)
    /// deadlines still fire.
    @Test func connectionTimerEndsCallsAtTheirDeadlines() async throws {
        try await withTestServer { port, group, _ in
            let client = try await H2TestClient.connect(port: port, group: group)
            let long = client.start("/test.Echo/Sleep", body: framed([[]]), headers: [("grpc-timeout", "1H")])
            let short = try await client.call("/test.Echo/Sleep", body: framed([[]]), headers: [("grpc-timeout", "200m")])
            #expect(short.grpcStatus == 4 && short.grpcMessage == "context deadline exceeded", "\(short)")
            for i in 0..<300 {
                let r = try await client.unary("/test.Echo/Unary", [UInt8(i & 0xFF)], headers: [("grpc-timeout", "\(10 + i % 7)S")])
                #expect(r.grpcStatus == 0 && r.messages == [[UInt8(i & 0xFF)]], "\(r)")
            }
            let again = try await client.call("/test.Echo/Sleep", body: framed([[]]), headers: [("grpc-timeout", "100m")])
            #expect(again.grpcStatus == 4, "\(again)")
            await client.close()
            _ = try? await long.get()
        }
    }
}
