import Foundation
import Testing
@testable import Server

/// The Watch stream's request side waits once `limit` handled requests
/// have answers not yet written, and goes on once the send side wrote them
/// or the stream ended.
@Suite struct WatchRequestGateTests {
    /// Whether `waitForRoom` has returned, set from the waiting task.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var set = false
        var value: Bool { lock.withLock { set } }
        func raise() { lock.withLock { set = true } }
    }

    /// Polls `condition` (a task's progress) for up to 10 s; a bound on a hang, not a timing.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<1000 {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return condition()
    }

    @Test func roomWhileFewerThanTheLimitWait() async {
        let gate = WatchRequestGate(limit: 2)
        var wakes = 0
        await gate.waitForRoom { wakes += 1 }
        gate.handledOne()
        await gate.waitForRoom { wakes += 1 }
        gate.handledOne()
        #expect(wakes == 0)
    }

    @Test func waitsForTheSendSideThenGoesOn() async {
        let gate = WatchRequestGate(limit: 2)
        gate.handledOne()
        gate.handledOne()
        let through = gate.handledSoFar
        let woke = Flag(), passed = Flag()
        let waiting = Task {
            await gate.waitForRoom { woke.raise() }
            passed.raise()
        }
        #expect(await eventually { woke.value })  // the send side is asked to take the queue
        #expect(!passed.value)
        gate.written(through: through - 2)  // nothing new written: still full
        #expect(!passed.value)
        gate.written(through: through)
        #expect(await eventually { passed.value })
        await waiting.value
    }

    @Test func endingTheStreamReleasesTheWaiter() async {
        let gate = WatchRequestGate(limit: 1)
        gate.handledOne()
        let passed = Flag()
        let waiting = Task {
            await gate.waitForRoom {}
            passed.raise()
        }
        try? await Task.sleep(nanoseconds: 50_000_000)
        #expect(!passed.value)
        gate.close()
        #expect(await eventually { passed.value })
        await waiting.value
        // Once closed nothing waits.
        gate.handledOne()
        await gate.waitForRoom {}
    }

    @Test func cancellingTheWaitingTaskReleasesIt() async {
        let gate = WatchRequestGate(limit: 1)
        gate.handledOne()
        let passed = Flag()
        let waiting = Task {
            await gate.waitForRoom {}
            passed.raise()
        }
        waiting.cancel()
        #expect(await eventually { passed.value })
        await waiting.value
    }
}
