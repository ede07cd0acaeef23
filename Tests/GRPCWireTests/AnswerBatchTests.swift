import NIOCore
import NIOEmbedded
import Testing
@testable import GRPCWire

/// Answers given inside `AnswerBatch.collect` reach their loops only when it
/// ends, in order, grouped by loop; outside it they are handed over at once.
/// (Synchronous tests: the batch belongs to the calling thread.)
@Suite struct AnswerBatchTests {
    final class Log: @unchecked Sendable {
        var entries: [String] = []
    }

    @Test func answersInsideCollectWaitForItsEndThenRunInOrder() {
        let a = EmbeddedEventLoop(), b = EmbeddedEventLoop()
        let log = Log()
        AnswerBatch.collect {
            AnswerBatch.execute(on: a) { log.entries.append("a1") }
            AnswerBatch.execute(on: b) { log.entries.append("b1") }
            AnswerBatch.execute(on: a) { log.entries.append("a2") }
            AnswerBatch.execute(on: a) { log.entries.append("a3") }
            AnswerBatch.execute(on: b) { log.entries.append("b2") }
            a.run()
            b.run()
            #expect(log.entries.isEmpty)
        }
        a.run()
        #expect(log.entries == ["a1", "a2", "a3"])
        b.run()
        #expect(log.entries == ["a1", "a2", "a3", "b1", "b2"])
    }

    @Test func aLongPhaseHandsOverEveryMaxPendingAnswers() {
        let loop = EmbeddedEventLoop()
        let log = Log()
        AnswerBatch.collect {
            for i in 0...AnswerBatch.maxPending { AnswerBatch.execute(on: loop) { log.entries.append("\(i)") } }
            loop.run()
            #expect(log.entries == (0..<AnswerBatch.maxPending).map { "\($0)" })
        }
        loop.run()
        #expect(log.entries == (0...AnswerBatch.maxPending).map { "\($0)" })
    }

    @Test func outsideCollectAnAnswerGoesToItsLoopAtOnce() {
        let loop = EmbeddedEventLoop()
        let log = Log()
        AnswerBatch.execute(on: loop) { log.entries.append("now") }
        loop.run()
        #expect(log.entries == ["now"])
    }

    @Test func aNestedCollectJoinsTheOuterOne() {
        let loop = EmbeddedEventLoop()
        let log = Log()
        AnswerBatch.collect {
            AnswerBatch.collect { AnswerBatch.execute(on: loop) { log.entries.append("inner") } }
            loop.run()
            #expect(log.entries.isEmpty)
            AnswerBatch.execute(on: loop) { log.entries.append("outer") }
        }
        loop.run()
        #expect(log.entries == ["inner", "outer"])
    }

    struct Failure: Error {}

    @Test func answersAreHandedOverWhenTheBodyThrows() {
        let loop = EmbeddedEventLoop()
        let log = Log()
        #expect(throws: Failure.self) {
            try AnswerBatch.collect {
                AnswerBatch.execute(on: loop) { log.entries.append("given") }
                throw Failure()
            }
        }
        loop.run()
        #expect(log.entries == ["given"])
        // The thread's batch is closed again: the next answer goes at once.
        AnswerBatch.execute(on: loop) { log.entries.append("after") }
        loop.run()
        #expect(log.entries == ["given", "after"])
    }
}
