import Foundation
@testable import MVCC
import Testing
@testable import Server

/// How a stream with many watchers is charged for live events: a revision's
/// shared event array once per stream, plus one queue entry per watcher
/// (bounded by `maxStreamQueuedOutputs`); past either bound the watchers fall
/// back to catch-up and still get every event once, in order.
@Suite struct WatchHubStreamBudgetTests {
    /// Drains `s` until nothing is queued or behind; each watcher's event revisions in arrival order.
    private func drain(_ f: WatchFixture, _ s: WatchStream) -> [Int64: [Int64]] {
        var got: [Int64: [Int64]] = [:]
        for _ in 0..<10_000 {
            for o in f.hub.take(s) { if let (id, revs) = o.eventRevisions { got[id, default: []] += revs } }
            if f.hub.syncUnsynced() == 0 && s.queue.isEmpty { break }
        }
        for o in f.hub.take(s) { if let (id, revs) = o.eventRevisions { got[id, default: []] += revs } }
        return got
    }

    /// 50 watchers × 20 puts of ~100 bytes: 100 KB if every watcher were
    /// charged, 2 KB shared, under the 4 KB budget: nobody falls behind.
    @Test func liveRevisionIsChargedOncePerStream() throws {
        let f = try WatchFixture(limits: .init(maxQueuedBytes: 8 << 10, maxStreamQueuedBytes: 4 << 10))
        let s = f.stream()
        for _ in 0..<50 { f.hub.create(spec("k", end: "l"), on: s) }
        _ = f.hub.take(s)
        let value = String(repeating: "v", count: 98)
        for i in 0..<20 { f.put("k\(i % 10)", value) }  // revisions 2...21, 100 bytes each
        #expect(s.queuedBytes == 20 * 100)
        #expect(s.queue.count == 20 * 50)
        let allSynced = s.watchers.values.allSatisfy { $0.isSynced }
        #expect(allSynced)
        // Past the budget they fall behind, and still get everything once, in order.
        for i in 0..<40 { f.put("k\(i % 10)", value) }  // revisions 22...61
        #expect(s.queuedBytes <= 4 << 10)
        let someBehind = s.watchers.values.contains { !$0.isSynced }
        #expect(someBehind)
        let got = drain(f, s)
        let allInOrder = got.values.allSatisfy { $0 == Array(2...61) }
        #expect(got.count == 50 && allInOrder)
    }

    /// The entry bound: 50 watchers, 120 entries allowed; the third put finds
    /// the stream full and its watchers catch up from history later.
    @Test func queuedOutputsAreBoundedPerStream() throws {
        let f = try WatchFixture(limits: .init(maxStreamQueuedOutputs: 120))
        let s = f.stream()
        for _ in 0..<50 { f.hub.create(spec("k"), on: s) }
        _ = f.hub.take(s)
        for _ in 0..<10 { f.put("k") }  // revisions 2...11
        #expect(s.queue.count <= 120)
        let someBehind = s.watchers.values.contains { !$0.isSynced }
        #expect(someBehind)
        let got = drain(f, s)
        let allInOrder = got.values.allSatisfy { $0 == Array(2...11) }
        #expect(got.count == 50 && allInOrder)
        f.put("k")
        let next = Array(drain(f, s).values)
        #expect(next == Array(repeating: [12], count: 50))
    }

    /// A transaction's events are grouped per watcher (not shared): each
    /// watcher's group is charged to the stream.
    @Test func transactionGroupsAreChargedPerWatcher() throws {
        let f = try WatchFixture(limits: .init(maxQueuedBytes: 8 << 10, maxStreamQueuedBytes: 4 << 10))
        let s = f.stream()
        for _ in 0..<3 { f.hub.create(spec("k", end: "l"), on: s) }
        _ = f.hub.take(s)
        let value = Array(String(repeating: "v", count: 98).utf8)
        let txn = TxnRequest(success: [.put(PutRequest(key: Array("k1".utf8), value: value)),
                                       .put(PutRequest(key: Array("k2".utf8), value: value))])
        f.write([.txn(txn)])
        #expect(s.queuedBytes == 3 * 200)
        let got = Array(drain(f, s).values)
        #expect(got == Array(repeating: [2, 2], count: 3))
    }

    /// All streams together are bounded by the shared budget (the server's
    /// response budget): 8 unread streams, each behind 500 KB of history with
    /// 4 MB allowed per stream, hold about the 100 KB budget plus one small
    /// chunk each (4 MB without it), none is starved, and once read every
    /// stream still gets every event once, in order.
    @Test func unreadStreamsAreBoundedTogetherBySharedBudget() throws {
        let budget = CountingBudget(totalBytes: 100 << 10)
        let f = try WatchFixture(limits: .init(maxQueuedBytes: 4 << 20, maxStreamQueuedBytes: 4 << 20), sharedBudget: budget)
        let value = String(repeating: "v", count: 1000)
        for i in 0..<500 { f.put("k\(i % 50)", value) }  // revisions 2...501, ~1 KB each
        let streams = (0..<8).map { _ in f.stream() }
        for s in streams { f.hub.create(spec("k", end: "l", start: 2), on: s) }
        for _ in 0..<100 where f.hub.syncUnsynced() > 0 {}
        let queued = streams.reduce(0) { $0 + $1.queuedBytes }
        #expect(budget.used == queued)
        #expect(queued <= (100 << 10) + 8 * ((64 << 10) + 1100), "\(queued)")
        let nobodyStarved = streams.allSatisfy { $0.queuedBytes > 0 }
        #expect(nobodyStarved)
        for s in streams {
            let got = drain(f, s)
            #expect(got.values.first == Array(2...501))
        }
        #expect(budget.used == 0)
    }

    /// Live outputs count in the shared budget too: 6 unread streams of 100
    /// watchers each, 60 puts of one tiny event (36,000 outputs, ~1 MB as
    /// blocks, almost no event bytes) under a 200 KB budget hold at most the
    /// budget plus one block per stream; the rest fall behind, and once read
    /// every watcher gets every event once, in order, and the budget is free.
    @Test func liveOutputsOfUnreadStreamsCountInTheSharedBudget() throws {
        let budget = CountingBudget(totalBytes: 200 << 10)
        let f = try WatchFixture(sharedBudget: budget)
        let streams = (0..<6).map { _ in f.stream() }
        for s in streams {
            for _ in 0..<100 { f.hub.create(spec("k", end: "l"), on: s) }
            _ = f.hub.take(s)
        }
        for _ in 0..<60 { f.put("k", "v") }  // revisions 2...61
        let block = WatchHub.outputCharge(1)
        #expect(budget.used <= (200 << 10) + 6 * block, "\(budget.used)")
        let someBehind = streams.contains { $0.watchers.values.contains { !$0.isSynced } }
        #expect(someBehind)
        for s in streams {
            let got = drain(f, s)
            let allInOrder = got.values.allSatisfy { $0 == Array(2...61) }
            #expect(got.count == 100 && allInOrder)
        }
        #expect(budget.used == 0)
    }
}

/// When a stream waits before taking its queue again (see
/// `WatchSession.coalescePause`): only after a fan-out, longer for a larger one, capped.
@Suite struct WatchCoalescePauseTests {
    @Test func onlyAFanOutWaitsAndTheWaitIsCapped() {
        #expect(WatchSession.coalescePause(responses: 1) == nil)
        #expect(WatchSession.coalescePause(responses: WatchSession.coalesceMinResponses - 1) == nil)
        let hundred = WatchSession.coalescePause(responses: 100)
        let thousand = WatchSession.coalescePause(responses: 1000)
        #expect(hundred != nil && thousand != nil && hundred! < thousand!)
        #expect(WatchSession.coalescePause(responses: 1_000_000) == WatchSession.coalesceMaxNanos)
    }
}

/// A shared budget that only counts (as GRPCWire's ByteBudget without its wake-ups).
final class CountingBudget: SharedByteBudget, @unchecked Sendable {
    let totalBytes: Int
    private let lock = NSLock()
    private var inUse = 0

    init(totalBytes: Int) { self.totalBytes = totalBytes }

    var used: Int { lock.withLock { inUse } }
    var bytesFree: Int { lock.withLock { totalBytes - inUse } }
    func add(_ bytes: Int) { lock.withLock { inUse += bytes } }
    func remove(_ bytes: Int) { lock.withLock { inUse -= bytes } }
}

/// What `take` hands a stream's sender besides the outputs: the delivery
/// options of exactly the current watchers (kept between batches, refilled
/// when watchers come or go), and fresh queue counters, so a watcher that
/// filled its queue once gets live events again after its sender took them.
@Suite struct WatchHubTakeTests {
    @Test func deliveryOptionsFollowTheStreamsWatchers() throws {
        let f = try WatchFixture()
        let s = f.stream()
        var withPrev = spec("a", id: 1)
        withPrev.prevKV = true
        f.hub.create(withPrev, on: s)
        var options: [Int64: WatchDelivery]? = [:]
        _ = f.hub.take(s, options: &options)
        #expect(options == [1: WatchDelivery(prevKV: true, fragment: false)])
        f.put("a")
        _ = f.hub.take(s, options: &options)
        #expect(options == [1: WatchDelivery(prevKV: true, fragment: false)])
        var fragmented = spec("b", id: 2)
        fragmented.fragment = true
        f.hub.create(fragmented, on: s)
        _ = f.hub.take(s, options: &options)
        #expect(options == [1: WatchDelivery(prevKV: true, fragment: false), 2: WatchDelivery(prevKV: false, fragment: true)])
        f.hub.cancel(watchID: 1, on: s)
        _ = f.hub.take(s, options: &options)
        #expect(options == [2: WatchDelivery(prevKV: false, fragment: true)])
        // A sender that starts over with no options gets them all again.
        var fresh: [Int64: WatchDelivery]? = [:]
        _ = f.hub.take(s, options: &fresh)
        #expect(fresh == options)
    }

    @Test func takeResetsTheQueueCountersOfWatchersWithEvents() throws {
        var limits = WatchHub.Limits()
        limits.maxQueuedEvents = 2
        let f = try WatchFixture(limits: limits)
        let s = f.stream()
        f.hub.create(spec("a", id: 1), on: s)
        f.hub.create(spec("b", id: 2), on: s)
        var options: [Int64: WatchDelivery]? = [:]
        for round in 0..<3 {
            f.put("a")
            f.put("a")
            f.put("b")
            let out = f.hub.take(s, options: &options)
            // Both stayed synced: their events came live, without the syncer's help.
            let revs = out.compactMap(\.eventRevisions)
            #expect(revs.filter { $0.0 == 1 }.flatMap(\.1).count == 2, "round \(round)")
            #expect(revs.filter { $0.0 == 2 }.flatMap(\.1).count == 1, "round \(round)")
        }
    }
}

/// A stream carrying many watchers of one prefix may fall hundreds of
/// revisions behind and keep them synced: each revision queues one output per
/// watcher, and the default outputs bound is meant for that, not for one
/// output per revision.
@Suite struct WatchHubManyWatchersTests {
    @Test func aStreamOfManyWatchersStaysSyncedHundredsOfRevisionsBehind() throws {
        let f = try WatchFixture()
        let s = f.stream()
        for id in 1...200 { f.hub.create(spec("p/", end: "p0", id: Int64(id)), on: s) }
        _ = f.hub.take(s)
        for i in 0..<600 { f.put("p/\(i % 10)") }
        var got: [Int64: Int] = [:]
        for o in f.hub.take(s) { if let (id, revs) = o.eventRevisions { got[id, default: 0] += revs.count } }
        #expect(got.count == 200)
        #expect(got.values.allSatisfy { $0 == 600 })
    }
}
