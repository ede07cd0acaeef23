import GRPCWire
import Proto
import Testing
@testable import Server

@Suite struct GatewayPipeTests {
    @Test func messagesInOrderThenTheEnd() async throws {
        let pipe = GatewayPipe()
        let producer = Task {
            for i in 0..<5 { try await pipe.send([UInt8(i)]) }
            pipe.finish(.end)
        }
        var received: [UInt8] = []
        loop: while true {
            switch await pipe.next() {
            case .message(let bytes): received += bytes
            case .end: break loop
            case .failed(let status): Issue.record("\(status)"); break loop
            }
        }
        try await producer.value
        #expect(received == [0, 1, 2, 3, 4])
    }

    @Test func failureComesAfterTheMessagesSentBeforeIt() async throws {
        let pipe = GatewayPipe()
        let producer = Task {
            try await pipe.send([1])
            pipe.finish(.failed(GRPCStatus(.notFound, "gone")))
        }
        guard case .message([1]) = await pipe.next() else { Issue.record("no message"); return }
        guard case .failed(let status) = await pipe.next() else { Issue.record("no failure"); return }
        #expect(status == GRPCStatus(.notFound, "gone"))
        try await producer.value
    }

    @Test func closingWakesAWaitingSenderWithAnError() async throws {
        let pipe = GatewayPipe()
        let producer = Task { () -> Bool in
            do {
                try await pipe.send([1])  // taken
                try await pipe.send([2])  // never taken: the consumer leaves
                return false
            } catch {
                return true
            }
        }
        guard case .message([1]) = await pipe.next() else { Issue.record("no message"); return }
        pipe.close()
        #expect(await producer.value)
        // A closed pipe ends at once for the consumer too.
        guard case .end = await pipe.next() else { Issue.record("not ended"); return }
    }

    @Test func cancellingTheConsumerClosesThePipe() async throws {
        let pipe = GatewayPipe()
        let consumer = Task { await pipe.next() }
        consumer.cancel()
        guard case .end = await consumer.value else { Issue.record("not ended"); return }
        await #expect(throws: CancellationError.self) { try await pipe.send([1]) }
    }

    @Test func everyRouteNamesAMethodOfTheProtos() {
        let known = Set(ProtoServices.all.flatMap { $0.methods.map(\.path) })
        for (path, route) in GatewayRoutes.table {
            #expect(path.hasPrefix("/v3/"))
            #expect(known.contains(route.grpcPath), "\(path) → \(route.grpcPath)")
        }
        #expect(GatewayRoutes.table["/v3/watch"]?.keepsRequestsOpen == true)
        #expect(GatewayRoutes.table["/v3/lease/keepalive"]?.keepsRequestsOpen == false)
    }
}
