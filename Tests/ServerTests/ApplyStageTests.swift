import Foundation
import Raft
import Support
import Testing
@testable import Server

/// The apply thread: applies in order, reports each job, and `drain` and
/// `stop` wait for what was handed over.
@Suite struct ApplyStageTests {
    @Test func drainWaitsForTheJobInProgressAndStopAppliesTheRest() throws {
        let applier = GatedApplier()
        let stage = ApplyStage(applier: applier)
        let reported = Locked<[UInt64]>([])
        stage.onApplied = { index in reported.withLock { $0.append(index) } }
        stage.start(name: "apply-stage-test")
        applier.hold(index: 2)
        stage.enqueue([Entry(term: 1, index: 1), Entry(term: 1, index: 2)], term: 1)
        try waitUntil { applier.waiting }
        // Queued behind the held job; different term, so a job of its own.
        stage.enqueue([Entry(term: 2, index: 3)], term: 2)
        #expect(!stage.isIdle)

        let drained = Latch()
        let returned = Locked(false)
        Thread.named("drain") {
            stage.drain()
            returned.withLock { $0 = true }
            drained.open()
        }.start()
        usleep(50_000)  // not a timing check: drain must still be waiting, whatever the delay
        #expect(!returned.withLock { $0 }, "drain returned while an apply was held")
        applier.release()
        drained.wait()
        #expect(stage.isIdle)
        #expect(applier.applied == [[1, 2], [3]] && applier.terms == [1, 2])
        #expect(reported.withLock { $0 } == [2, 3])

        stage.enqueue([Entry(term: 2, index: 4)], term: 2)
        stage.stop()
        #expect(applier.applied.last == [4], "stop dropped a job handed over before it")
    }
}

/// Records each apply call's indices; holds the call containing `index` until released.
final class GatedApplier: CommittedEntryApplier, @unchecked Sendable {
    private let condition = NSCondition()
    private var held: UInt64?
    private var released = false
    private var inside = false
    private var log: [[UInt64]] = []
    private var termLog: [UInt64] = []

    var applied: [[UInt64]] { condition.withLock { log } }
    var terms: [UInt64] { condition.withLock { termLog } }
    var waiting: Bool { condition.withLock { inside } }

    func hold(index: UInt64) { condition.withLock { held = index } }
    func release() {
        condition.withLock {
            released = true
            condition.broadcast()
        }
    }

    func apply(_ entries: [Entry], term: UInt64) {
        condition.withLock {
            if let held, entries.contains(where: { $0.index == held }) {
                inside = true
                while !released { condition.wait() }
                inside = false
            }
            log.append(entries.map(\.index))
            termLog.append(term)
        }
    }
}

/// A value behind a lock, for test closures run on other threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}

private func waitUntil(_ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(30)  // a bound on a hang, not a timing assertion
    while !condition() {
        if Date() > deadline { throw CancellationError() }
        usleep(1000)
    }
}
