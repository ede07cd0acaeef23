import Testing
import Foundation
import NIOCore
@testable import Server

@Suite struct WaitRegistryTests {
    @Test func resultArrivingBeforeTheWaiterSuspendsIsKept() async throws {
        let registry = WaitRegistry<Int>()
        // `start` triggers synchronously: the result lands before the continuation exists.
        let value = try await registry.wait(id: 7) { registry.trigger(id: 7, .success(42)) }
        #expect(value == 42)
    }

    @Test func triggerFromAnotherThreadWakesTheWaiter() async throws {
        let registry = WaitRegistry<String>()
        let value = try await registry.wait(id: 1) {
            Thread.detachNewThread {
                usleep(10_000)
                registry.trigger(id: 1, .success("applied"))
            }
        }
        #expect(value == "applied")
    }

    /// A waiter without a task gets exactly one answer: the trigger's, or
    /// CancellationError when withdrawn first (a later trigger finds nothing),
    /// or the expiry's; a throwing start leaves nothing registered.
    @Test func callbackWaiterIsAnsweredOnce() throws {
        let registry = WaitRegistry<Int>()
        let answers = NSLock(), box = Box()
        func record(_ id: UInt64) -> @Sendable (Result<Int, Error>) -> Void {
            { result in answers.withLock { box.got.append((id, result)) } }
        }
        try registry.register(id: 1, done: record(1)) {}
        registry.trigger(id: 1, .success(42))
        registry.trigger(id: 1, .success(43))
        try registry.register(id: 2, done: record(2)) {}
        registry.cancel(id: 2)
        registry.trigger(id: 2, .success(44))
        try registry.register(id: 3, deadline: .uptimeNanoseconds(1), done: record(3)) {}
        registry.expire { _ in ServerError.timeout }
        #expect(throws: ServerError.self) {
            try registry.register(id: 4, done: record(4)) { throw ServerError.timeout }
        }
        #expect(!registry.isRegistered(4))
        let got = answers.withLock { box.got }
        #expect(got.map { $0.0 } == [1, 2, 3])
        #expect((try? got[0].1.get()) == 42)
        #expect(got[1].1.isCancellation)
        #expect((got[2].1.error as? ServerError) == .timeout)
        #expect(registry.count == 0)
    }

    private final class Box: @unchecked Sendable { var got: [(UInt64, Result<Int, Error>)] = [] }

    /// Expiry names its error per wait: a write still parked for want of a
    /// leader gets etcd's "context deadline exceeded", others "request timed out".
    @Test func expiryErrorIsChosenPerWait() async throws {
        let registry = WaitRegistry<Int>()
        for (id, parked) in [(UInt64(5), true), (6, false)] {
            do {
                _ = try await registry.wait(id: id, deadline: .uptimeNanoseconds(1)) {
                    registry.expire { $0 == 5 ? ServerError.proposalDeadline : ServerError.timeout }
                }
                Issue.record("wait \(id) did not expire")
            } catch let e as ServerError {
                #expect(e == (parked ? .proposalDeadline : .timeout))
                #expect(e.code == (parked ? .unknown : .unavailable))
            }
        }
    }

    @Test func triggersForUnknownIDsAreIgnored() async throws {
        let registry = WaitRegistry<Int>()
        registry.trigger(id: 99, .success(1))  // proposed by another member
        #expect(registry.lockedIDs().isEmpty)
    }

    @Test func failuresPropagate() async {
        let registry = WaitRegistry<Int>()
        await #expect(throws: ServerError.noLeader) {
            try await registry.wait(id: 3) { registry.trigger(id: 3, .failure(ServerError.noLeader)) }
        }
    }

    @Test func cancellationRemovesTheWaiter() async throws {
        let registry = WaitRegistry<Int>()
        let task = Task { try await registry.wait(id: 5) {} }
        while !registry.isRegistered(5) { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!registry.isRegistered(5))
    }

    @Test func failAllWakesEveryone() async {
        let registry = WaitRegistry<Int>()
        let tasks = (0..<10).map { i in Task { try await registry.wait(id: UInt64(i)) {} } }
        while registry.lockedIDs().count < 10 { await Task.yield() }
        try? await Task.sleep(for: .milliseconds(20))
        registry.failAll(ServerError.stopped)
        for t in tasks { await #expect(throws: ServerError.stopped) { try await t.value } }
    }

    @Test func readBatchesUpToAnIndexAreAnswered() async throws {
        let registry = WaitRegistry<UInt64>()
        async let first = registry.wait(id: 1) {}
        async let second = registry.wait(id: 2) {}
        while registry.lockedIDs().count < 2 { await Task.yield() }
        registry.triggerAll(upTo: 2, .success(10))
        #expect(try await first == 10)
        #expect(try await second == 10)
    }
}

@Suite struct MemberMetadataTests {
    @Test func roundTrip() throws {
        let m = MemberMetadata(memberID: 0x8e9e_05c5_2164_694d, clusterID: 0xcdf8_1819_4e3a_8c32)
        #expect(try MemberMetadata(decoding: m.encoded) == m)
        #expect(throws: StartupError.self) { try MemberMetadata(decoding: [1, 2, 3]) }
    }

    @Test func requestIDsAreUniqueAndCarryTheMember() {
        let gen = RequestIDGenerator(memberID: 0xabcd_1234)
        let ids = (0..<1000).map { _ in gen.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0 >> 48 == 0x1234 })
    }

    /// Deadlines are swept by `expire` with an explicit clock: only waits
    /// whose deadline passed fail, in any insertion order, and an answered
    /// request leaves nothing behind to fire.
    @Test func expireFailsOnlyPassedDeadlines() async throws {
        let registry = WaitRegistry<Int>()
        let base = NIODeadline.now()
        let answered = try await registry.wait(id: 1, deadline: base + .seconds(1)) { registry.trigger(id: 1, .success(10)) }
        #expect(answered == 10)
        let late = Task { try await registry.wait(id: 2, deadline: base + .seconds(5)) {} }
        let early = Task { try await registry.wait(id: 3, deadline: base + .seconds(2)) {} }  // inserted out of order
        while !(registry.isRegistered(2) && registry.isRegistered(3)) { await Task.yield() }
        registry.expire(now: base + .seconds(3), ServerError.timeout)
        await #expect(throws: ServerError.timeout) { try await early.value }
        #expect(registry.isRegistered(2))
        registry.trigger(id: 2, .success(20))
        #expect(try await late.value == 20)
        registry.expire(now: base + .seconds(10), ServerError.timeout)  // id 2's stale entry: ignored
        #expect(registry.lockedIDs().isEmpty)
    }
}

private extension Result where Failure == Error {
    var isCancellation: Bool { if case .failure(let e) = self { return e is CancellationError } else { return false } }
    var error: Error? { if case .failure(let e) = self { return e } else { return nil } }
}
