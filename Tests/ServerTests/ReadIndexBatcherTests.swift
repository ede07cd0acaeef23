import Foundation
import Raft
import Support
import Testing
@testable import Server

@Suite struct ReadIndexBatcherTests {
    let later = MonotonicClock.deadline(afterSeconds: 60)

    /// An answer carrying another member's context (its request forwarded
    /// as this member's by a leader that stepped down) serves none of this
    /// member's reads, though its batch number is one of ours.
    @Test func anotherMembersAnswerServesNoRead() {
        let answers = [ReadState(index: 7, context: RaftLoop.readContext(batch: 3, memberID: 0xb)),
                       ReadState(index: 9, context: RaftLoop.readContext(batch: 3, memberID: 0xa)),
                       ReadState(index: 9, context: [3])]
        let own = RaftLoop.ownReads(answers, memberID: 0xa)
        #expect(own.map(\.index) == [9])
        #expect(own.map(\.batch) == [3])
    }

    @Test func oneRequestInFlightServesEveryReadBeforeIt() {
        var b = ReadIndexBatcher()
        b.enqueue([(1, later), (2, later)])
        #expect(b.nextRequest() == 2)
        b.enqueue([(3, later)])
        #expect(b.nextRequest() == nil)  // 3 waits for the next round
        b.answered(2)
        #expect(b.served(upTo: 2) == [1, 2])
        #expect(b.nextRequest() == 3)
        b.answered(3)
        #expect(b.served(upTo: 3) == [3])
        #expect(b.isEmpty && b.nextRequest() == nil)
    }

    @Test func outOfOrderArrivalsAreSorted() {
        var b = ReadIndexBatcher()
        b.enqueue([(5, later), (4, later)])
        b.enqueue([(3, later)])
        #expect(b.nextRequest() == 5)
        #expect(b.served(upTo: 5) == [3, 4, 5])
    }

    @Test func unansweredRequestIsResentAfterRetryTicks() {
        var b = ReadIndexBatcher()
        b.enqueue([(1, later)])
        #expect(b.nextRequest() == 1)
        b.enqueue([(2, later)])
        for _ in 1..<ReadIndexBatcher.retryTicks { _ = b.tick(nowNanos: MonotonicClock.nanoseconds()); #expect(b.nextRequest() == nil) }
        _ = b.tick(nowNanos: MonotonicClock.nanoseconds())
        #expect(b.nextRequest() == 2)
        // The late answer to the first request serves read 1 only; 2 stays in flight.
        b.answered(1)
        #expect(b.served(upTo: 1) == [1])
        #expect(b.nextRequest() == nil)
    }

    /// A leader change forgets the request in flight (the next goes to the
    /// new leader at once) and keeps every read waiting until its deadline.
    @Test func deadlinesExpireAndLeaderChangeResends() {
        var b = ReadIndexBatcher()
        let now = MonotonicClock.nanoseconds()
        b.enqueue([(1, now - 1_000_000_000), (2, later), (3, later)])
        #expect(b.tick(nowNanos: now) == [1])
        #expect(b.nextRequest() == 3)
        b.forgetInFlight()
        #expect(b.inFlight == nil && !b.isEmpty)
        #expect(b.nextRequest() == 3)
        b.answered(3)
        #expect(b.served(upTo: 3) == [2, 3])
        #expect(b.isEmpty)
    }
}
