import Foundation

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
/// events (plus one chunk) in memory.
///
/// Invariant (no gap, no duplicate): a watcher is given each revision ≥ its
/// `minRevision` exactly once, and `minRevision` only grows; `notify` skips
/// events below it, so history read ahead of `notify` is not repeated.
///
/// Lock order: `lock` guards all watcher/stream state; store reads happen
/// outside it.
public final class WatchHub: @unchecked Sendable {
    public struct Limits {
        /// Events a watcher may have queued before it is moved to unsynced.
        public var maxQueuedEvents: Int
        /// Bytes of keys+values a watcher may have queued.
        public var maxQueuedBytes: Int
        /// Events read from history per catch-up step.
        public var catchUpChunkEvents: Int
        public var syncIntervalSeconds: Double

        public init(maxQueuedEvents: Int = 1024, maxQueuedBytes: Int = 8 << 20, catchUpChunkEvents: Int = 1000,
                    syncIntervalSeconds: Double = 0.1) {
            self.maxQueuedEvents = maxQueuedEvents
            self.maxQueuedBytes = maxQueuedBytes
            self.catchUpChunkEvents = catchUpChunkEvents
            self.syncIntervalSeconds = syncIntervalSeconds
        }
    }

    public let limits: Limits
    private let store: MVCCStore
    private let lock = NSLock()
    /// Last revision handed to `notify`.
    private var revision: Int64  // guarded by lock
    /// Synced single-key watchers by key; synced range watchers apart.
    private var syncedByKey: [[UInt8]: [ObjectIdentifier: Watcher]] = [:]  // guarded by lock
    private var syncedRanges: [ObjectIdentifier: Watcher] = [:]  // guarded by lock
    private var unsynced: [ObjectIdentifier: Watcher] = [:]  // guarded by lock
    private var syncer: Thread?
    private let stopSignal = NSCondition()
    private var stopping = false  // guarded by stopSignal

    public init(store: MVCCStore, limits: Limits = Limits()) {
        self.store = store
        self.limits = limits
        revision = store.currentRevision
    }

    public var currentRevision: Int64 { lock.withLock { revision } }

    // MARK: syncer thread

    public func start() {
        let t = Thread { [self] in
            while true {
                let stop = stopSignal.withLock { () -> Bool in
                    if !stopping { _ = stopSignal.wait(until: Date().addingTimeInterval(limits.syncIntervalSeconds)) }
                    return stopping
                }
                if stop { return }
                while syncUnsynced() > 0 {}
            }
        }
        t.name = "watch-sync"
        syncer = t
        t.start()
    }

    public func stop() {
        stopSignal.withLock {
            stopping = true
            stopSignal.signal()
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
        }
    }

    /// Creates a watcher and queues the `created` answer (etcd's watch create:
    /// duplicate ID or empty range → created and canceled at once, id -1).
    public func create(_ spec: WatchSpec, on stream: WatchStream) {
        var kick = false
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
            let w = Watcher(id: id, spec: spec, stream: stream, minRevision: start)
            stream.watchers[id] = w
            stream.queue.append(.created(watchID: id, revision: wsRevision, canceled: false, reason: ""))
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
        let queued: Bool = lock.withLock {
            guard stream.watchers.values.allSatisfy(\.isSynced) else { return false }
            stream.queue.append(.progress(watchID: -1, revision: revision))
            return true
        }
        if queued { stream.wake() }
    }

    /// Periodic progress: each synced `progress_notify` watcher that got no
    /// events since the last tick is told the current revision.
    public func progressTick(on stream: WatchStream) {
        let queued: Bool = lock.withLock {
            var any = false
            for w in stream.watchers.values.sorted(by: { $0.id < $1.id }) where w.spec.progressNotify {
                if w.isSynced && !w.sentSinceTick && w.queuedEvents == 0 {
                    stream.queue.append(.progress(watchID: w.id, revision: revision))
                    any = true
                }
                w.sentSinceTick = false
            }
            return any
        }
        if queued { stream.wake() }
    }

    public func spec(of watchID: Int64, on stream: WatchStream) -> WatchSpec? {
        lock.withLock { stream.watchers[watchID]?.spec }
    }

    /// Takes everything queued for a stream (its sender calls this when woken).
    public func take(_ stream: WatchStream) -> [WatchOutput] {
        var kick = false
        let out: [WatchOutput] = lock.withLock {
            let q = stream.queue
            stream.queue.removeAll(keepingCapacity: true)
            for w in stream.watchers.values where w.queuedEvents > 0 || w.queuedBytes > 0 {
                w.queuedEvents = 0
                w.queuedBytes = 0
                if !w.isSynced { kick = true }
            }
            return q
        }
        if kick { kickSyncer() }
        return out
    }
}

// MARK: - notify and catch-up

extension WatchHub {
    /// Called by the applier after each commit, in revision order.
    public func notify(events: [Event], revision newRevision: Int64) {
        var woken: [ObjectIdentifier: WatchStream] = [:]
        lock.withLock {
            revision = max(revision, newRevision)
            var i = 0
            while i < events.count {
                let rev = events[i].kv.modRevision
                var j = i
                var perWatcher: [ObjectIdentifier: (Watcher, [Event])] = [:]
                while j < events.count && events[j].kv.modRevision == rev {
                    let e = events[j]
                    for w in (syncedByKey[e.kv.key]?.values).map(Array.init) ?? [] { perWatcher[ObjectIdentifier(w), default: (w, [])].1.append(e) }
                    for w in syncedRanges.values where w.spec.contains(e.kv.key) { perWatcher[ObjectIdentifier(w), default: (w, [])].1.append(e) }
                    j += 1
                }
                for (w, evs) in perWatcher.values where w.isSynced && rev >= w.minRevision {
                    if enqueue(evs, revision: rev, to: w, live: true) { woken[ObjectIdentifier(w.stream)] = w.stream }
                }
                i = j
            }
        }
        for s in woken.values { s.wake() }
    }

    /// The store was replaced by a snapshot from the leader: a later state of
    /// the same history, whose revisions between the old and the new current
    /// revision never went through `notify`. Every synced watcher becomes
    /// unsynced and catches up from the new store's history from its own
    /// `minRevision` (no event missed or repeated; one whose next revision
    /// was compacted away gets the compacted answer, as etcd's restore).
    /// Call on the apply thread, with no `notify` running.
    public func storeReplaced() {
        lock.withLock {
            revision = max(revision, store.currentRevision)
            let synced = syncedRanges.values + syncedByKey.values.flatMap(\.values)
            for w in synced {
                removeSynced(w)
                unsynced[ObjectIdentifier(w)] = w
            }
        }
        kickSyncer()
    }

    /// One catch-up step for every unsynced watcher with room in its queue;
    /// returns how many watchers advanced (0: nothing more to do now).
    @discardableResult
    public func syncUnsynced() -> Int {
        let work: [(Watcher, Int64)] = lock.withLock {
            unsynced.values.filter { $0.queuedEvents < limits.maxQueuedEvents / 2 }.map { ($0, $0.minRevision) }
        }
        var advanced = 0
        for (w, from) in work {
            let read: Result<(events: [Event], lastRevision: Int64), Error> = Result {
                try store.events(fromRevision: from, key: w.spec.key, rangeEnd: w.spec.rangeEnd, limit: limits.catchUpChunkEvents)
            }
            let compactRevision = store.compactRevision
            var wakeStream = false
            lock.withLock {
                guard !w.isCanceled, !w.isSynced, w.minRevision == from else { return }
                switch read {
                case .failure(let e as KVError) where e == .compacted:
                    w.stream.queue.append(.compacted(watchID: w.id, compactRevision: compactRevision))
                    w.stream.watchers.removeValue(forKey: w.id)
                    remove(w)
                    wakeStream = true
                case .failure:
                    return  // storage trouble: try again next round
                case .success(let (events, last)):
                    if !events.isEmpty { wakeStream = enqueue(events, revision: last, to: w, live: false) }
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

    /// Queues `events` (filtered) for `w`; a live delivery that would overflow
    /// the queue moves the watcher to unsynced instead. Returns whether
    /// something was queued. Caller holds `lock`.
    private func enqueue(_ events: [Event], revision rev: Int64, to w: Watcher, live: Bool) -> Bool {
        let bytes = events.reduce(0) { $0 + $1.kv.key.count + $1.kv.value.count }
        if live && (w.queuedEvents + events.count > limits.maxQueuedEvents || w.queuedBytes + bytes > limits.maxQueuedBytes) {
            removeSynced(w)
            w.minRevision = rev
            unsynced[ObjectIdentifier(w)] = w
            return false
        }
        if live { w.minRevision = rev + 1 }
        let passed = events.filter { w.spec.passes($0) }
        guard !passed.isEmpty else { return false }
        w.queuedEvents += passed.count
        w.queuedBytes += bytes
        w.sentSinceTick = true
        w.stream.queue.append(.events(watchID: w.id, events: passed, revision: rev))
        return true
    }

    private func addSynced(_ w: Watcher) {
        w.isSynced = true
        if w.spec.rangeEnd.isEmpty {
            syncedByKey[w.spec.key, default: [:]][ObjectIdentifier(w)] = w
        } else {
            syncedRanges[ObjectIdentifier(w)] = w
        }
    }

    private func removeSynced(_ w: Watcher) {
        w.isSynced = false
        if w.spec.rangeEnd.isEmpty {
            syncedByKey[w.spec.key]?.removeValue(forKey: ObjectIdentifier(w))
            if syncedByKey[w.spec.key]?.isEmpty == true { syncedByKey.removeValue(forKey: w.spec.key) }
        } else {
            syncedRanges.removeValue(forKey: ObjectIdentifier(w))
        }
    }

    /// Takes a watcher out of both groups for good. Caller holds `lock`.
    private func remove(_ w: Watcher) {
        w.isCanceled = true
        if w.isSynced { removeSynced(w) }
        unsynced.removeValue(forKey: ObjectIdentifier(w))
    }
}
