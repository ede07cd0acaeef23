import Foundation
import Support

/// Fans the store's events out to watchers (etcd's watchable store).
///
/// Watchers are *synced* (caught up: they get each commit's events from
/// `notify` at once) or *unsynced* (behind: a start revision in the past, or
/// their stream's queue filled up because the client reads slowly). The
/// syncer (`syncUnsynced`, run every `syncIntervalSeconds` on its own thread)
/// reads an unsynced watcher's missed events from MVCC history in chunks of
/// `catchUpChunkEvents`, and moves it back to synced once it reached the
/// revision `notify` last published. So a slow consumer never blocks the
/// apply loop or other watchers, and holds at most `maxQueuedEvents`
/// events (plus one chunk) in memory, and a stream (however many watchers it
/// carries) about `maxStreamQueuedBytes` of events and `maxStreamQueuedOutputs`
/// queue entries: catch-up reads stop at that budget, so a client that never
/// reads its stream costs a bounded amount however much history it is behind,
/// and all streams together are bounded by the server's response budget
/// (`sharedBudget`, see `SharedByteBudget`).
/// A live revision's events are one array shared by every watcher they reach,
/// so a stream is charged their bytes once, not once per watcher: 1,000
/// watchers of one prefix on a stream hold one copy of each event (and 1,000
/// small entries, which the entry bound counts).
///
/// Invariant (no gap, no duplicate): a watcher is given each revision ≥ its
/// `minRevision` exactly once, and `minRevision` only grows; `notify` skips
/// events below it, so history read ahead of `notify` is not repeated.
///
/// Lock order: `lock` guards all watcher/stream state; store reads happen
/// outside it.
public final class WatchHub: @unchecked Sendable {
    public let limits: Limits
    /// Bounds the bytes queued on all streams together (see `SharedByteBudget`); nil: only per stream.
    private let sharedBudget: SharedByteBudget?
    /// The catch-up chunk a stream with nothing queued may take while `sharedBudget` is full (at least one event).
    static let fullBudgetChunkBytes = 64 << 10
    private let store: MVCCStore
    private let lock = NSLock()
    /// Last revision handed to `notify`.
    private var revision: Int64  // guarded by lock
    /// Synced watchers by their key or range: an event finds its watchers
    /// without visiting the others (etcd's watcherGroup).
    private var synced = WatchKeyIndex<Watcher>()  // guarded by lock
    private var unsynced: [ObjectIdentifier: Watcher] = [:]  // guarded by lock
    /// Revisions `notify` handed over and not yet matched to watchers, in
    /// revision order (see `fanOutPending`).
    private var pending: [(events: [Event], revision: Int64)] = []  // guarded by lock
    /// Whether the fan-out thread runs; if not, `notify` fans out itself.
    private var fanOutThreadRunning = false  // guarded by lock
    private var syncer: Thread?
    /// Monotonic, so a wall clock stepped back does not hold the syncer's
    /// next round (unsynced watchers waiting on it) for as long.
    private let stopSignal = MonotonicCondition()
    private var stopping = false  // guarded by stopSignal
    private let fanOutSignal = NSCondition()
    private var fanOutWanted = false  // guarded by fanOutSignal
    private var fanOutStopping = false  // guarded by fanOutSignal

    public init(store: MVCCStore, limits: Limits = Limits(), sharedBudget: SharedByteBudget? = nil) {
        self.store = store
        self.limits = limits
        self.sharedBudget = sharedBudget
        revision = store.currentRevision
    }

    public var currentRevision: Int64 { lock.withLock { revision } }

    // MARK: syncer thread

    public func start() {
        let t = Thread.named("watch-sync") { [self] in
            while true {
                let stop = stopSignal.withLock { () -> Bool in
                    if !stopping { stopSignal.wait(seconds: limits.syncIntervalSeconds) }
                    return stopping
                }
                if stop { return }
                while syncUnsynced() > 0 {}
            }
        }
        syncer = t
        t.start()
        let f = Thread.named("watch-fanout") { [self] in
            while true {
                let stop = fanOutSignal.withLock { () -> Bool in
                    while !fanOutWanted && !fanOutStopping { fanOutSignal.wait() }
                    fanOutWanted = false
                    return fanOutStopping
                }
                if stop { return }
                wake(lock.withLock { fanOutPending() })
            }
        }
        lock.withLock { fanOutThreadRunning = true }
        f.start()
    }

    public func stop() {
        lock.withLock { fanOutThreadRunning = false }
        stopSignal.withLock {
            stopping = true
            stopSignal.signal()
        }
        fanOutSignal.withLock {
            fanOutStopping = true
            fanOutSignal.signal()
        }
    }

    private func kickSyncer() { stopSignal.withLock { stopSignal.signal() } }

    // MARK: streams

    public func openStream(wake: @escaping @Sendable () -> Void) -> WatchStream { WatchStream(wake: wake) }

    /// Drops every watcher of a stream that ended.
    public func close(_ stream: WatchStream) {
        lock.withLock {
            stream.isClosed = true
            for w in stream.watchers.values { remove(w) }
            stream.watchers.removeAll()
            stream.queue.removeAll()
            stream.queuedWatchers.removeAll()
            releaseCharges(of: stream)
        }
    }

    /// Gives back to the shared budget what `stream`'s queue was charged
    /// (event bytes and live-output blocks), now that it was taken or dropped.
    /// Caller holds `lock`.
    private func releaseCharges(of stream: WatchStream) {
        sharedBudget?.remove(stream.queuedBytes + Self.outputCharge(stream.chargedOutputs))
        stream.queuedBytes = 0
        stream.chargedOutputs = 0
        stream.chargedRevision = 0
    }

    /// Creates a watcher and queues the `created` answer (etcd's watch create:
    /// duplicate ID or empty range → created and canceled at once, id -1).
    public func create(_ spec: WatchSpec, on stream: WatchStream) {
        var kick = false
        // etcd keeps a negative start revision as given: below the compaction
        // revision (-1 while the store was never compacted) the watcher is
        // created and answered compacted; otherwise it watches from now.
        let compactedAt = spec.startRevision < 0 ? store.compactRevision : .min
        lock.withLock {
            guard !stream.isClosed else { return }
            let wsRevision = revision
            if spec.rangeEnd.count > 0 && spec.rangeEnd != [0] && !spec.key.lexicographicallyPrecedes(spec.rangeEnd) {
                stream.queue.append(.created(watchID: -1, revision: wsRevision, canceled: true, reason: "mvcc: watcher range is empty"))
                return
            }
            var id = spec.watchID
            if id == 0 {
                while stream.watchers[stream.nextID] != nil { stream.nextID += 1 }
                id = stream.nextID
                stream.nextID += 1
            } else if stream.watchers[id] != nil {
                stream.queue.append(.created(watchID: -1, revision: wsRevision, canceled: true,
                                             reason: "mvcc: duplicate watch ID provided on the WatchStream"))
                return
            }
            let start = spec.startRevision > 0 ? spec.startRevision : wsRevision + 1
            stream.queue.append(.created(watchID: id, revision: wsRevision, canceled: false, reason: ""))
            if spec.startRevision < compactedAt {
                stream.queue.append(.compacted(watchID: id, compactRevision: compactedAt))
                return
            }
            let w = Watcher(id: id, spec: spec, stream: stream, minRevision: start)
            stream.watchers[id] = w
            if start > wsRevision {
                addSynced(w)
            } else {
                unsynced[ObjectIdentifier(w)] = w
                kick = true
            }
        }
        stream.wake()
        if kick { kickSyncer() }
    }

    /// Answers a create refused before it reached the hub (no permission):
    /// etcd 3.5's created-and-canceled response with the request's watch ID
    /// (0 when the client let the server choose) and `reason`.
    public func refuse(_ spec: WatchSpec, reason: String, on stream: WatchStream) {
        lock.withLock {
            guard !stream.isClosed else { return }
            stream.queue.append(.created(watchID: spec.watchID, revision: revision, canceled: true, reason: reason))
        }
        stream.wake()
    }

    /// Cancels a watcher; unknown IDs are ignored, as etcd does.
    public func cancel(watchID: Int64, on stream: WatchStream) {
        lock.withLock {
            guard let w = stream.watchers.removeValue(forKey: watchID) else { return }
            remove(w)
            // Events queued for it are dropped: nothing may follow `canceled`.
            stream.queue.removeAll { if case .events(let id, _, _) = $0 { return id == watchID } else { return false } }
            stream.queue.append(.canceled(watchID: watchID, revision: revision))
        }
        stream.wake()
    }

    /// A client's progress request: one notification (watch ID -1) at the
    /// current revision if every watcher of the stream is synced, nothing
    /// while one catches up (later etcd 3.5's RequestProgressAll: the
    /// revision promises every event below it was sent). A stream without
    /// watchers has nothing to catch up and is answered, as etcd 3.5.1 does.
    public func requestProgress(on stream: WatchStream) {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        let queued: Bool = lock.withLock {
            woken = fanOutPending()  // the revision promises every event up to it is queued
            guard stream.watchers.values.allSatisfy(\.isSynced) else { return false }
            stream.queue.append(.progress(watchID: -1, revision: revision))
            return true
        }
        wake(woken)
        if queued { stream.wake() }
    }

    /// Periodic progress: each synced `progress_notify` watcher that got no
    /// events since the last tick is told the current revision, unless its
    /// last notification still waits to be taken: a stream that is not read
    /// holds one per watcher, not one per tick (etcd skips a notification
    /// while the watcher's channel is full).
    public func progressTick(on stream: WatchStream) {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        let queued: Bool = lock.withLock {
            woken = fanOutPending()
            var any = false
            for w in stream.watchers.values.sorted(by: { $0.id < $1.id }) where w.spec.progressNotify {
                if w.isSynced && !w.sentSinceTick && w.queuedEvents == 0 && w.progressQueuedAtTake != stream.takes {
                    w.progressQueuedAtTake = stream.takes
                    stream.queue.append(.progress(watchID: w.id, revision: revision))
                    any = true
                }
                w.sentSinceTick = false
            }
            return any
        }
        wake(woken)
        if queued { stream.wake() }
    }

    /// Takes everything queued for a stream (its sender calls this when woken).
    public func take(_ stream: WatchStream) -> [WatchOutput] {
        var options: [Int64: WatchDelivery]? = nil
        return take(stream, options: &options)
    }

    /// `take`, and with `options` non-nil also each current watcher's
    /// delivery options under the same lock (one lock per batch, not one
    /// look-up per output; a watcher canceled meanwhile has none).
    public func take(_ stream: WatchStream, options: inout [Int64: WatchDelivery]?) -> [WatchOutput] {
        var kick = false
        var woken: [ObjectIdentifier: WatchStream] = [:]
        let out: [WatchOutput] = lock.withLock {
            woken = fanOutPending()
            woken.removeValue(forKey: ObjectIdentifier(stream))
            let q = stream.queue
            stream.queue.removeAll(keepingCapacity: true)
            stream.takes += 1
            releaseCharges(of: stream)
            // The options change only with the stream's watchers: not refilled per batch (1,000 watchers: 1,000 inserts).
            if options != nil
                && (stream.optionsGeneration != stream.watchersGeneration || options!.count != stream.watchers.count) {
                options!.removeAll(keepingCapacity: true)
                for w in stream.watchers.values {
                    options![w.id] = WatchDelivery(prevKV: w.spec.prevKV, fragment: w.spec.fragment)
                }
                stream.optionsGeneration = stream.watchersGeneration
            }
            for w in stream.queuedWatchers {
                w.queuedEvents = 0
                w.queuedBytes = 0
                if !w.isSynced && !w.isCanceled { kick = true }
            }
            stream.queuedWatchers.removeAll(keepingCapacity: true)
            return q
        }
        wake(woken)
        if kick { kickSyncer() }
        return out
    }
}

// MARK: - notify and catch-up

extension WatchHub {
    /// Called by the applier after each commit, in revision order. The
    /// apply thread only hands the events over: the "watch-fanout" thread
    /// matches them to watchers (`fanOutPending`), so watchers do not slow
    /// writers. Every other entry point that depends on what is queued
    /// (take, progress, catch-up, store replacement) fans out what is pending
    /// first, under the same lock, so the hub behaves as if `notify` had
    /// done the work itself: nothing is reordered, and a watcher created
    /// meanwhile skips the pending revisions (they are below its
    /// `minRevision`). Past `maxPendingRevisions` the caller fans out itself,
    /// which bounds the memory a slow fan-out can hold.
    public func notify(events: [Event], revision newRevision: Int64) {
        if publish(events: events, revision: newRevision) { startFanOut() }
    }

    /// The first half of `notify`: queues the events (from here on the hub
    /// behaves as if notified: a progress answer or a new watcher's start
    /// revision counts them) and returns whether the fan-out thread must be
    /// woken, which `startFanOut` does. The applier answers its proposers in
    /// between, so a put's answer is on its way before the fan-out thread
    /// (and the stream senders it wakes) compete with it for a CPU.
    @discardableResult
    public func publish(events: [Event], revision newRevision: Int64) -> Bool {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        let signal: Bool = lock.withLock {
            revision = max(revision, newRevision)
            // Nobody synced: later watchers start after this revision or read it from history.
            guard !events.isEmpty, !synced.isEmpty else { return false }
            pending.append((events, newRevision))
            if pending.count > limits.maxPendingRevisions || !fanOutThreadRunning {
                woken = fanOutPending()
                return false
            }
            return pending.count == 1
        }
        wake(woken)
        return signal
    }

    /// Wakes the fan-out thread for what `publish` queued.
    public func startFanOut() {
        fanOutSignal.withLock { fanOutWanted = true; fanOutSignal.signal() }
    }

    /// Matches the pending revisions' events to the synced watchers and
    /// queues them on their streams; returns the streams to wake. Caller
    /// holds `lock`. A revision's event array is shared by every watcher
    /// that takes all of it.
    private func fanOutPending() -> [ObjectIdentifier: WatchStream] {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        guard !pending.isEmpty else { return woken }
        let batches = pending
        pending.removeAll(keepingCapacity: true)
        var matched: [Watcher] = []
        for (events, _) in batches where !synced.isEmpty {
            var i = 0
            while i < events.count {
                let rev = events[i].kv.modRevision
                var j = i + 1
                while j < events.count && events[j].kv.modRevision == rev { j += 1 }
                if j == i + 1 {
                    // One event (a put or delete outside a txn): no per-watcher grouping needed.
                    let e = events[i]
                    let one = [e]
                    let bytes = e.kv.key.count + e.kv.value.count
                    matched.removeAll(keepingCapacity: true)
                    synced.forEach(containing: e.kv.key) { matched.append($0) }
                    var last: WatchStream? = nil  // most watchers share a stream with the one before
                    for w in matched where w.isSynced && rev >= w.minRevision {
                        // `one` is shared: a stream holds its bytes once, however many of its watchers take it.
                        let streamBytes = w.stream.chargedRevision == rev ? 0 : bytes
                        if enqueue(one, bytes: bytes, streamBytes: streamBytes, revision: rev, to: w, live: true)
                            && w.stream !== last {
                            last = w.stream
                            woken[ObjectIdentifier(w.stream)] = w.stream
                        }
                    }
                } else {
                    var perWatcher: [ObjectIdentifier: (Watcher, [Event])] = [:]
                    for e in events[i..<j] {
                        synced.forEach(containing: e.kv.key) { perWatcher[ObjectIdentifier($0), default: ($0, [])].1.append(e) }
                    }
                    for (w, evs) in perWatcher.values where w.isSynced && rev >= w.minRevision {
                        let bytes = evs.reduce(0) { $0 + $1.kv.key.count + $1.kv.value.count }
                        if enqueue(evs, bytes: bytes, streamBytes: bytes, revision: rev, to: w, live: true) {
                            woken[ObjectIdentifier(w.stream)] = w.stream
                        }
                    }
                }
                i = j
            }
        }
        return woken
    }

    private func wake(_ streams: [ObjectIdentifier: WatchStream]) {
        for s in streams.values { s.wake() }
    }

    /// The store was replaced by a snapshot from the leader: a later state of
    /// the same history, whose revisions between the old and the new current
    /// revision never went through `notify`. Every synced watcher becomes
    /// unsynced and catches up from the new store's history from its own
    /// `minRevision` (no event missed or repeated; one whose next revision
    /// was compacted away gets the compacted answer, as etcd's restore).
    /// Call on the apply thread, with no `notify` running.
    public func storeReplaced() {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        lock.withLock {
            woken = fanOutPending()  // events of the old store, still due to synced watchers
            revision = max(revision, store.currentRevision)
            var all: [Watcher] = []
            synced.forEachMember { all.append($0) }
            for w in all {
                removeSynced(w)
                unsynced[ObjectIdentifier(w)] = w
            }
        }
        wake(woken)
        kickSyncer()
    }

    /// One catch-up step for every unsynced watcher with room in its queue;
    /// returns how many watchers advanced (0: nothing more to do now).
    @discardableResult
    public func syncUnsynced() -> Int {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        let work: [(Watcher, Int64)] = lock.withLock {
            woken = fanOutPending()
            return unsynced.values.filter { $0.queuedEvents < limits.maxQueuedEvents / 2 }.map { ($0, $0.minRevision) }
        }
        wake(woken)
        var advanced = 0
        for (w, from) in work {
            // Checked per watcher: the ones before it on the same stream used the stream's budget.
            let budget: Int = lock.withLock {
                min(limits.maxQueuedBytes - w.queuedBytes, limits.maxStreamQueuedBytes - w.stream.queuedBytes)
            }
            let entriesFree: Bool = lock.withLock { w.stream.queue.count < limits.maxStreamQueuedOutputs / 2 }
            guard budget > min(limits.maxQueuedBytes, limits.maxStreamQueuedBytes) / 2, entriesFree else { continue }
            // Only what fits the shared budget; a stream with nothing queued always gets a small chunk.
            let free = sharedBudget?.bytesFree ?? Int.max
            if free <= 0 && lock.withLock({ w.stream.queuedBytes > 0 }) { continue }
            let byteLimit = min(budget, max(free, Self.fullBudgetChunkBytes))
            let read: Result<(events: [Event], lastRevision: Int64), Error> = Result {
                try store.events(fromRevision: from, key: w.spec.key, rangeEnd: w.spec.rangeEnd,
                                 limit: limits.catchUpChunkEvents, byteLimit: byteLimit)
            }
            let compactRevision = store.compactRevision
            var wakeStream = false
            lock.withLock {
                guard !w.isCanceled, !w.isSynced, w.minRevision == from else { return }
                switch read {
                case .failure(let e as MVCCError) where e.kind == .compacted:
                    w.stream.queue.append(.compacted(watchID: w.id, compactRevision: compactRevision))
                    w.stream.watchers.removeValue(forKey: w.id)
                    remove(w)
                    wakeStream = true
                case .failure:
                    return  // storage trouble: try again next round
                case .success(let (events, last)):
                    if !events.isEmpty {
                        let bytes = events.reduce(0) { $0 + $1.kv.key.count + $1.kv.value.count }
                        wakeStream = enqueue(events, bytes: bytes, streamBytes: bytes, revision: last, to: w, live: false)
                    }
                    w.minRevision = max(w.minRevision, last + 1)
                    if last >= revision {
                        unsynced.removeValue(forKey: ObjectIdentifier(w))
                        addSynced(w)
                    }
                }
                advanced += 1
            }
            if wakeStream { w.stream.wake() }
        }
        return advanced
    }

    /// Queues `events` (filtered; `bytes`: their keys' and values' size) for
    /// `w`, charging its stream `streamBytes` (0: the stream already holds
    /// this shared array); a live delivery that would overflow the queue moves
    /// the watcher to unsynced instead. Returns whether something was queued.
    /// Caller holds `lock`.
    private func enqueue(_ events: [Event], bytes: Int, streamBytes: Int, revision rev: Int64, to w: Watcher,
                         live: Bool) -> Bool {
        if live && (w.queuedEvents + events.count > limits.maxQueuedEvents || w.queuedBytes + bytes > limits.maxQueuedBytes
                    || w.stream.queuedBytes + streamBytes > limits.maxStreamQueuedBytes
                    || (streamBytes > 0 && w.stream.queuedBytes > 0 && streamBytes > (sharedBudget?.bytesFree ?? Int.max))
                    || w.stream.queue.count >= limits.maxStreamQueuedOutputs
                    || (w.stream.chargedOutputs > 0 && w.stream.chargedOutputs % Self.outputsPerCharge == 0
                        && Self.outputCharge(1) > (sharedBudget?.bytesFree ?? Int.max))) {
            removeSynced(w)
            w.minRevision = rev
            unsynced[ObjectIdentifier(w)] = w
            return false
        }
        if live { w.minRevision = rev + 1 }
        let passed = w.spec.noPut || w.spec.noDelete ? events.filter { w.spec.passes($0) } : events
        guard !passed.isEmpty else { return false }
        if w.queuedEvents == 0 { w.stream.queuedWatchers.append(w) }
        w.queuedEvents += passed.count
        w.queuedBytes += bytes
        if streamBytes > 0 {
            w.stream.queuedBytes += streamBytes
            sharedBudget?.add(streamBytes)
        }
        if live { w.stream.chargedRevision = rev }
        w.sentSinceTick = true
        w.stream.queue.append(.events(watchID: w.id, events: passed, revision: rev))
        if live { chargeOutput(w.stream) }
        return true
    }

    /// Counts one live output on `stream`, charging the shared budget a
    /// block when it starts one. Caller holds `lock`.
    private func chargeOutput(_ stream: WatchStream) {
        if stream.chargedOutputs % Self.outputsPerCharge == 0 { sharedBudget?.add(Self.outputCharge(1)) }
        stream.chargedOutputs += 1
    }

    private func addSynced(_ w: Watcher) {
        w.isSynced = true
        synced.insert(w, key: w.spec.key, rangeEnd: w.spec.rangeEnd)
    }

    private func removeSynced(_ w: Watcher) {
        w.isSynced = false
        synced.remove(w, key: w.spec.key, rangeEnd: w.spec.rangeEnd)
    }

    /// Takes a watcher out of both groups for good. Caller holds `lock`.
    private func remove(_ w: Watcher) {
        w.isCanceled = true
        if w.isSynced { removeSynced(w) }
        unsynced.removeValue(forKey: ObjectIdentifier(w))
    }
}
