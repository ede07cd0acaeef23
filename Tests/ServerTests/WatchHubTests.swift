import Foundation
@testable import MVCC
import Proto
import Testing
@testable import Server

@Suite struct WatchHubTests {
    @Test func syncedWatcherGetsEachRevisionOnceInOrder() throws {
        let f = try WatchFixture()
        let s = f.stream()
        f.hub.create(spec("a"), on: s)
        f.put("a", "1")
        f.put("b")  // not watched
        f.put("a", "2")
        let out = f.hub.take(s)
        #expect(out.first == .created(watchID: 0, revision: 1, canceled: false, reason: ""))
        #expect(out.compactMap(\.eventRevisions).map(\.1) == [[2], [4]])
    }

    @Test func eventsOfOneRevisionGoInOneResponse() throws {
        let f = try WatchFixture()
        let s = f.stream()
        f.hub.create(spec("k", end: "l"), on: s)
        let txn = TxnRequest(success: [.put(PutRequest(key: Array("k1".utf8))), .put(PutRequest(key: Array("k2".utf8)))])
        f.write([.txn(txn)])
        let evs = f.hub.take(s).compactMap(\.eventRevisions)
        #expect(evs.count == 1)
        #expect(evs.first?.1 == [2, 2])
    }

    @Test func prefixAllKeysAndFilters() throws {
        let f = try WatchFixture()
        let s = f.stream()
        f.hub.create(spec("p/", end: "p0"), on: s)  // prefix p/
        var all = WatchSpec(key: [0], rangeEnd: [0])  // every key
        all.watchID = 10
        f.hub.create(all, on: s)
        var noDelete = spec("p/x", id: 20)
        noDelete.noDelete = true
        f.hub.create(noDelete, on: s)
        f.put("p/x")
        f.put("q")
        f.delete("p/x")
        let byWatcher = Dictionary(grouping: f.hub.take(s).compactMap(\.eventRevisions), by: \.0).mapValues { $0.flatMap(\.1) }
        #expect(byWatcher[0] == [2, 4])
        #expect(byWatcher[10] == [2, 3, 4])
        #expect(byWatcher[20] == [2])
    }

    @Test func historicalWatchReplaysThenJoinsLiveWithoutGapsOrDuplicates() throws {
        let f = try WatchFixture(limits: .init(maxQueuedEvents: 1000, catchUpChunkEvents: 3))
        for i in 0..<10 { f.put("h", "\(i)") }  // revisions 2...11
        let s = f.stream()
        f.hub.create(spec("h", start: 3), on: s)
        // Writes keep coming while the watcher is behind; one is committed but
        // not yet notified when the catch-up reads history.
        f.put("h", "live1")  // 12
        f.put("h", "live2", notify: false)  // 13
        while f.hub.syncUnsynced() > 0 {}
        f.hub.notify(events: [], revision: 13)
        f.put("h", "live3")  // 14 (the notify of 13 is covered by history)
        let revs = f.hub.take(s).compactMap(\.eventRevisions).flatMap(\.1)
        #expect(revs == Array(3...14))
    }

    @Test func lateNotifyOfRevisionsReadFromHistoryIsNotRepeated() throws {
        let f = try WatchFixture()
        f.put("x")  // 2
        let s = f.stream()
        f.hub.create(spec("x", start: 2), on: s)
        let r = f.write([.put(PutRequest(key: Array("x".utf8)))], notify: false)  // 3, notify delayed
        while f.hub.syncUnsynced() > 0 {}
        f.hub.notify(events: r.events, revision: 3)
        #expect(f.hub.take(s).compactMap(\.eventRevisions).flatMap(\.1) == [2, 3])
    }

    @Test func compactedStartRevisionCancelsWithCompactRevision() throws {
        let f = try WatchFixture()
        for _ in 0..<5 { f.put("c") }  // 2...6
        f.write([.compact(CompactionRequest(revision: 5))])
        let s = f.stream()
        f.hub.create(spec("c", start: 2, id: 7), on: s)
        while f.hub.syncUnsynced() > 0 {}
        let out = f.hub.take(s)
        #expect(out == [.created(watchID: 7, revision: 6, canceled: false, reason: ""),
                        .compacted(watchID: 7, compactRevision: 5)])
        // The canceled watcher gets nothing more.
        f.put("c")
        #expect(f.hub.take(s).isEmpty)
    }

    @Test func compactionWhileAWatcherIsBehind() throws {
        let f = try WatchFixture(limits: .init(maxQueuedEvents: 2))
        let s = f.stream()
        f.hub.create(spec("w", id: 1), on: s)
        _ = f.hub.take(s)
        for _ in 0..<6 { f.put("w") }  // 2...7, the queue overflows after 2 events
        f.write([.compact(CompactionRequest(revision: 6))])
        let first = f.hub.take(s).compactMap(\.eventRevisions).flatMap(\.1)
        #expect(first == [2, 3])
        while f.hub.syncUnsynced() > 0 {}
        #expect(f.hub.take(s) == [.compacted(watchID: 1, compactRevision: 6)])
    }

    @Test func slowConsumerStaysBoundedAndOthersKeepFlowing() throws {
        let f = try WatchFixture(limits: .init(maxQueuedEvents: 8, catchUpChunkEvents: 5))
        let slow = f.stream(), fast = f.stream()
        f.hub.create(spec("k"), on: slow)
        f.hub.create(spec("k"), on: fast)
        _ = f.hub.take(slow)
        var fastRevs: [Int64] = []
        for i in 0..<200 {
            f.put("k", "\(i)")
            fastRevs += f.hub.take(fast).compactMap(\.eventRevisions).flatMap(\.1)
            // The slow stream never reads; what it holds stays under the limit.
            #expect(queuedEvents(f.hub, slow) <= 8)
            if i % 10 == 0 { f.hub.syncUnsynced() }  // the syncer must not add while the queue is full
        }
        #expect(fastRevs == Array(2...201))
        // Once it reads again, it catches up from history in order.
        var slowRevs: [Int64] = []
        for _ in 0..<200 {
            slowRevs += f.hub.take(slow).compactMap(\.eventRevisions).flatMap(\.1)
            if f.hub.syncUnsynced() == 0 && queuedEvents(f.hub, slow) == 0 { break }
        }
        slowRevs += f.hub.take(slow).compactMap(\.eventRevisions).flatMap(\.1)
        #expect(slowRevs == Array(2...201))
        f.put("k")
        #expect(f.hub.take(slow).compactMap(\.eventRevisions).flatMap(\.1) == [202])
    }

    /// Many watchers far behind on a stream that is not read: catch-up stops
    /// at the stream's byte budget (it read every watcher's whole history,
    /// 1,000 events each, before), and once read they still get every event once, in order.
    @Test func watchersBehindOnOneStreamShareItsByteBudget() throws {
        let f = try WatchFixture(limits: .init(maxQueuedBytes: 8 << 10, maxStreamQueuedBytes: 4 << 10))
        let value = String(repeating: "x", count: 1000)
        for i in 0..<40 { f.put("k\(i % 4)", value) }  // revisions 2...41, ~1 KB each
        let s = f.stream()
        for _ in 0..<20 { f.hub.create(spec("k", end: "l", start: 2), on: s) }
        for _ in 0..<5 { f.hub.syncUnsynced() }
        // Each event is ~1 KB: the stream holds one budget's worth (plus one revision), not 20 × 40 events.
        #expect(queuedBytes(s) <= (4 << 10) + 1100, "\(queuedBytes(s)) bytes queued")
        var got: [Int64: [Int64]] = [:]
        for _ in 0..<2000 {
            for o in f.hub.take(s) { if let (id, revs) = o.eventRevisions { got[id, default: []] += revs } }
            if f.hub.syncUnsynced() == 0 && s.queue.isEmpty { break }
        }
        for o in f.hub.take(s) { if let (id, revs) = o.eventRevisions { got[id, default: []] += revs } }
        #expect(got.count == 20 && got.values.allSatisfy { $0 == Array(2...41) })
    }

    /// etcd 3.5.1 keeps a negative start revision: below the compaction
    /// revision (-1 before any compaction) it answers created, then compacted;
    /// -1 itself watches from now.
    @Test func negativeStartRevisionsAsEtcd() throws {
        let f = try WatchFixture()
        f.put("k")
        let s = f.stream()
        f.hub.create(spec("k", start: -5, id: 1), on: s)
        #expect(f.hub.take(s) == [.created(watchID: 1, revision: 2, canceled: false, reason: ""),
                                  .compacted(watchID: 1, compactRevision: -1)])
        f.hub.create(spec("k", start: -1, id: 2), on: s)
        while f.hub.syncUnsynced() > 0 {}
        _ = f.hub.take(s)
        f.put("k")
        #expect(f.hub.take(s).compactMap(\.eventRevisions).map(\.0) == [2])
    }

    private func queuedBytes(_ s: WatchStream) -> Int {
        s.queue.reduce(0) { n, o in
            if case .events(_, let evs, _) = o { return n + evs.reduce(0) { $0 + $1.kv.key.count + $1.kv.value.count } }
            return n
        }
    }

    private func queuedEvents(_ hub: WatchHub, _ s: WatchStream) -> Int {
        s.queue.reduce(0) { n, o in if case .events(_, let evs, _) = o { return n + evs.count } else { return n } }
    }

    @Test func clientIDsDuplicatesAndEmptyRanges() throws {
        let f = try WatchFixture()
        let s = f.stream()
        f.hub.create(spec("a", id: 5), on: s)
        f.hub.create(spec("b", id: 5), on: s)
        f.hub.create(spec("b", end: "a"), on: s)
        f.hub.create(spec("c"), on: s)
        f.hub.create(spec("d"), on: s)
        #expect(f.hub.take(s) == [
            .created(watchID: 5, revision: 1, canceled: false, reason: ""),
            .created(watchID: -1, revision: 1, canceled: true, reason: "mvcc: duplicate watch ID provided on the WatchStream"),
            .created(watchID: -1, revision: 1, canceled: true, reason: "mvcc: watcher range is empty"),
            .created(watchID: 0, revision: 1, canceled: false, reason: ""),
            .created(watchID: 1, revision: 1, canceled: false, reason: ""),
        ])
    }

    @Test func cancelDropsQueuedEventsAndAnswersCanceled() throws {
        let f = try WatchFixture()
        let s = f.stream()
        f.hub.create(spec("a"), on: s)
        _ = f.hub.take(s)
        f.put("a")
        f.hub.cancel(watchID: 0, on: s)
        f.hub.cancel(watchID: 42, on: s)  // unknown: ignored
        f.put("a")
        #expect(f.hub.take(s) == [.canceled(watchID: 0, revision: 2)])
    }

    @Test func progressRequestAnsweredOnlyWhenAllSynced() throws {
        let f = try WatchFixture()
        f.put("a")
        let s = f.stream()
        f.hub.create(spec("a"), on: s)
        f.put("a")
        f.hub.requestProgress(on: s)
        let out = f.hub.take(s)
        #expect(out.last == .progress(watchID: -1, revision: 3))
        // A watcher still replaying history: no answer yet.
        f.hub.create(spec("a", start: 1), on: s)
        _ = f.hub.take(s)
        f.hub.requestProgress(on: s)
        #expect(f.hub.take(s).isEmpty)
    }

    @Test func progressRequestWithoutWatchersIsAnswered() throws {
        let f = try WatchFixture()
        f.put("a")
        let s = f.stream()
        f.hub.requestProgress(on: s)
        #expect(f.hub.take(s) == [.progress(watchID: -1, revision: 2)])
    }

    @Test func periodicProgressSkipsWatchersThatGotEvents() throws {
        let f = try WatchFixture()
        let s = f.stream()
        var a = spec("a", id: 1)
        a.progressNotify = true
        var b = spec("b", id: 2)
        b.progressNotify = true
        f.hub.create(a, on: s)
        f.hub.create(b, on: s)
        f.hub.create(spec("c", id: 3), on: s)  // did not ask
        f.put("a")
        _ = f.hub.take(s)
        f.hub.progressTick(on: s)
        #expect(f.hub.take(s) == [.progress(watchID: 2, revision: 2)])
        f.hub.progressTick(on: s)
        #expect(f.hub.take(s) == [.progress(watchID: 1, revision: 2), .progress(watchID: 2, revision: 2)])
    }

    /// A stream whose sender does not take its queue (its client never
    /// reads) holds one periodic notification per watcher, not one per
    /// tick (before: 1,000 watchers at a 10 ms interval grew the member by
    /// ~3 MB/s for as long as the client stayed).
    @Test func periodicProgressWaitsOnePerWatcherOnAnUnreadStream() throws {
        let f = try WatchFixture()
        let s = f.stream()
        var a = spec("a", id: 1)
        a.progressNotify = true
        var b = spec("b", id: 2)
        b.progressNotify = true
        f.hub.create(a, on: s)
        f.hub.create(b, on: s)
        _ = f.hub.take(s)
        for _ in 0..<100 { f.hub.progressTick(on: s) }
        f.put("x")  // 2, watched by neither
        f.hub.progressTick(on: s)
        #expect(f.hub.take(s) == [.progress(watchID: 1, revision: 1), .progress(watchID: 2, revision: 1)])
        f.hub.progressTick(on: s)
        #expect(f.hub.take(s) == [.progress(watchID: 1, revision: 2), .progress(watchID: 2, revision: 2)])
    }

    /// The applier publishes a commit's events, answers its proposers, and
    /// only then starts the fan-out: in between, the hub already counts the
    /// events (a take gets them, a progress answer comes after them, a new
    /// watcher starts after them).
    @Test func publishedEventsCountBeforeTheFanOutStarts() throws {
        let f = try WatchFixture()
        f.hub.start()
        defer { f.hub.stop() }
        let s = f.stream()
        f.hub.create(spec("a"), on: s)
        let r = f.write([.put(PutRequest(key: Array("a".utf8)))], notify: false)  // 2
        #expect(f.hub.publish(events: r.events, revision: 2))
        let late = f.stream()
        f.hub.create(spec("a"), on: late)
        f.hub.requestProgress(on: s)
        let out = f.hub.take(s)
        #expect(out.compactMap(\.eventRevisions).map(\.1) == [[2]])
        #expect(out.last == .progress(watchID: -1, revision: 2))
        #expect(f.hub.take(late) == [.created(watchID: 0, revision: 2, canceled: false, reason: "")])
        f.hub.startFanOut()  // nothing left to fan out: no event twice
        #expect(f.hub.take(s).isEmpty)
    }
}

@Suite struct WatchResponseTests {
    private func event(_ i: Int, valueBytes: Int) -> Mvccpb.Event {
        var kv = Mvccpb.KeyValue()
        kv.key = Array("k\(i)".utf8)
        kv.value = [UInt8](repeating: 7, count: valueBytes)
        var e = Mvccpb.Event()
        e.kv = kv
        return e
    }

    @Test func oversizedResponsesAreFragmentedAsEtcdDoes() {
        var r = Etcdserverpb.WatchResponse()
        r.watchID = 3
        r.events = (0..<10).map { event($0, valueBytes: 300) }
        let parts = WatchFragmenter.split(r, maxBytes: 1000)
        #expect(parts.count > 1)
        #expect(parts.dropLast().allSatisfy { $0.fragment })
        #expect(parts.last?.fragment == false)
        #expect(parts.flatMap(\.events) == r.events)
        #expect(parts.allSatisfy { $0.watchID == 3 && ($0.events.count == 1 || $0.serializedBytes().count < 1000) })
        // Small responses and single events go out whole.
        #expect(WatchFragmenter.split(r, maxBytes: 1 << 20) == [r])
        var one = r
        one.events = [event(0, valueBytes: 5000)]
        #expect(WatchFragmenter.split(one, maxBytes: 1000) == [one])
    }

    @Test func createRequestDefaultsAsEtcd() {
        var c = Etcdserverpb.WatchCreateRequest()
        c.filters = [.noput]
        c.rangeEnd = [0]
        let s = WatchSession.spec(c)
        #expect(s.key == [0])  // empty key: the smallest key
        #expect(s.rangeEnd == [0] && s.contains([]) == false && s.contains([0]) && s.contains(Array("zzz".utf8)))
        #expect(s.noPut && !s.noDelete)
    }
}
