import Foundation
import Support
import Testing

@Suite struct MonotonicConditionTests {
    /// A timed wait ends by its monotonic deadline (false) or by a signal (true).
    @Test func timedWaitEndsAtDeadlineOrSignal() {
        let condition = MonotonicCondition()
        condition.withLock {
            #expect(!condition.wait(untilNanoseconds: MonotonicClock.nanoseconds() - 1))
            let deadline = MonotonicClock.deadline(afterSeconds: 0.01)
            while condition.wait(untilNanoseconds: deadline) {}  // a spurious wake-up waits again
            #expect(MonotonicClock.nanoseconds() >= deadline)
        }
        let woken = GuardedFlag()
        let signaller = Thread {
            condition.withLock {
                woken.isSet = true
                condition.signal()
            }
        }
        condition.withLock {
            signaller.start()
            while !woken.isSet { condition.wait(untilNanoseconds: MonotonicClock.deadline(afterSeconds: 60)) }
        }
        #expect(condition.withLock { woken.isSet })
    }

    /// A flag both threads touch only while holding the condition's lock.
    private final class GuardedFlag: @unchecked Sendable {
        var isSet = false
    }

    @Test func deadlinesSaturate() {
        #expect(MonotonicClock.deadline(afterSeconds: .infinity) == .max)
        #expect(MonotonicClock.deadline(afterSeconds: 1e30) == .max)
        let now = MonotonicClock.nanoseconds()
        #expect(MonotonicClock.deadline(afterSeconds: -5) >= now)
        #expect(MonotonicClock.deadline(afterSeconds: .nan) >= now)
    }
}
