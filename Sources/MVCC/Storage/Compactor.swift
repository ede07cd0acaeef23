import CLMDB
import Foundation
import Support

/// Physical compaction in the background: removes every change a read at or
/// above the compaction revision can no longer see, in chunks of
/// `chunkKeys` keys, each its own short LMDB write txn, so the apply loop
/// waits at most one chunk for LMDB's writer lock; `sleep` apart (etcd's
/// compaction batch limit and sleep interval).
///
/// For each key, of its changes at or below revision C it keeps only the
/// latest, and drops that too when it is a tombstone (etcd's keyIndex.compact
/// rule). Reads below C are already refused when the Compact request
/// applied, so a half-done compaction is invisible to readers.
///
/// Progress is not persisted: after a restart an unfinished compaction
/// restarts from the first key (`scheduledCompact` > `finishedCompact`).
///
/// Runs on its own thread (`mvcc-compactor`, started by the first
/// `schedule`), one scheduled revision after another.
final class Compactor: @unchecked Sendable {
    private unowned let store: MVCCStore
    private let chunkKeys: Int
    private let sleep: Duration
    /// Guards `stopped`, `pending` and `workerRunning`; signalled whenever
    /// a compaction finishes or work arrives.
    private let cond = MonotonicCondition()
    private var stopped = false
    /// Revisions scheduled and not started yet, in order.
    private var pending: [Int64] = []
    /// The worker thread exists (it exits only on `stop`).
    private var workerRunning = false
    /// Held by each chunk, and by `paused` for its whole body.
    private let pauseLock = NSLock()
    /// Bumped (guarded by `cond`) when `MVCCStore.replace` swaps in another
    /// database: a run under way starts over from the first key, since the
    /// new file's keys before its position were never compacted here.
    private var generation = 0
    /// The generation the current run's position belongs to (worker only).
    private var runGeneration = 0

    /// Chunks committed since the store opened (tests and metrics).
    private var chunksCommitted = 0  // guarded by `cond`

    init(store: MVCCStore, chunkKeys: Int, sleep: Duration) {
        self.store = store
        self.chunkKeys = max(1, chunkKeys)
        self.sleep = sleep
    }

    var committedChunks: Int {
        cond.lock(); defer { cond.unlock() }
        return chunksCommitted
    }

    func schedule(_ rev: Int64) {
        cond.lock()
        defer { cond.unlock() }
        guard !stopped else { return }
        pending.append(rev)
        if !workerRunning {
            workerRunning = true
            let t = Thread.named("mvcc-compactor") { [self] in work() }
            t.start()
        }
        cond.broadcast()
    }

    /// Stops the worker once its current chunk is done; returns when it has exited.
    func stop() {
        cond.lock()
        stopped = true
        cond.broadcast()
        while workerRunning { cond.wait() }
        cond.unlock()
    }

    private func work() {
        while true {
            cond.lock()
            while pending.isEmpty && !stopped { cond.wait() }
            if stopped {
                workerRunning = false
                cond.broadcast()
                cond.unlock()
                return
            }
            let rev = pending.removeFirst()
            cond.unlock()
            do {
                try run(rev)
            } catch {
                // Leaves finishedCompact behind; the next open retries.
                FileHandle.standardError.write(Data("mvcc: compaction to \(rev) failed: \(error)\n".utf8))
            }
            cond.lock(); cond.broadcast(); cond.unlock()
        }
    }

    /// Runs `body` with no compaction chunk running or starting (they wait).
    func paused<R>(_ body: () throws -> R) rethrows -> R {
        try pauseLock.withLock { try body() }
    }

    /// Call holding `envGate` exclusively (no chunk runs meanwhile).
    func storeReplaced() {
        cond.lock(); generation += 1; cond.unlock()
    }

    private var isStopped: Bool {
        cond.lock(); defer { cond.unlock() }
        return stopped
    }

    /// Blocks until compaction to at least `rev` finished (or the store closes).
    func wait(for rev: Int64) {
        cond.lock()
        while !stopped && store.finishedCompactRevision < rev { cond.wait() }
        cond.unlock()
    }

    private func run(_ rev: Int64) throws {
        if store.finishedCompactRevision >= rev { return }
        var resume: [UInt8]? = nil
        while !isStopped {
            let (next, done) = try chunk(rev, after: resume)
            if done { break }
            resume = next
            pause()
        }
    }

    /// Waits `sleep` between chunks; `stop()` cuts it short.
    private func pause() {
        guard sleep > .zero else { return }
        let (seconds, atto) = sleep.components
        let deadline = MonotonicClock.deadline(afterSeconds: Double(seconds) + Double(atto) / 1e18)
        cond.lock()
        while !stopped && MonotonicClock.nanoseconds() < deadline { cond.wait(untilNanoseconds: deadline) }
        cond.unlock()
    }

    /// One chunk: returns the last key visited and whether the index was exhausted.
    private func chunk(_ rev: Int64, after: [UInt8]?) throws -> ([UInt8]?, Bool) {
        pauseLock.lock()
        defer { pauseLock.unlock() }
        store.envGate.lockShared()
        defer { store.envGate.unlockShared() }
        cond.lock()
        let current = generation
        cond.unlock()
        var after = after
        if current != runGeneration {
            runGeneration = current
            after = nil
        }
        var txnPtr: OpaquePointer?
        try LMDB.check(mdb_txn_begin(store.env, nil, 0, &txnPtr), "txn_begin(compact)")
        let txn = txnPtr!
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }
        let dbs = store.dbs

        var victims: [([UInt8], [IndexEntry])] = []
        var lastKey: [UInt8]? = after
        var exhausted = false
        let cursor = try Cursor(txn, dbs.index)
        do {
            defer { cursor.close() }
            var k = MDB_val(), d = MDB_val()
            var more: Bool
            if let after {
                more = try after.withUnsafeBytes { a in
                    k = MDB_val(mv_size: a.count, mv_data: UnsafeMutableRawPointer(mutating: a.baseAddress))
                    return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
                }
                if more && after.withUnsafeBytes({ Bytes.compare(LMDB.bytes(k), $0) }) == 0 {
                    more = try cursor.op(MDB_NEXT_NODUP, key: &k, value: &d)
                }
            } else {
                more = try cursor.op(MDB_FIRST, key: &k, value: &d)
            }
            var visited = 0
            while more && visited < chunkKeys {
                visited += 1
                let key = [UInt8](LMDB.bytes(k))
                var upTo: [IndexEntry] = []
                var ok = try cursor.op(MDB_FIRST_DUP, key: &k, value: &d)
                while ok {
                    let e = IndexEntry(LMDB.bytes(d))
                    if e.revision.main > rev { break }
                    upTo.append(e)
                    ok = try cursor.op(MDB_NEXT_DUP, key: &k, value: &d)
                }
                if let last = upTo.last {
                    if !last.isTombstone { upTo.removeLast() }
                    if !upTo.isEmpty { victims.append((key, upTo)) }
                }
                lastKey = key
                // Re-seek: the dup walk may have left the cursor anywhere in the key.
                more = try key.withUnsafeBytes { kb in
                    k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                    guard try cursor.op(MDB_SET_KEY, key: &k, value: &d) else { return false }
                    return try cursor.op(MDB_NEXT_NODUP, key: &k, value: &d)
                }
            }
            exhausted = !more
        }
        for (key, entries) in victims {
            try key.withUnsafeBytes { kb in
                for e in entries {
                    try e.withBytes { eb in _ = try LMDB.del(txn, dbs.index, kb, eb) }
                    try e.revision.withKey { rk in _ = try LMDB.del(txn, dbs.rev, rk) }
                }
            }
        }
        if exhausted {
            let w = try KVWriter(txn: txn, dbs: dbs, revision: 0, readOnly: true)
            try w.setMeta(.finishedCompact, rev)
        }
        try LMDB.check(mdb_txn_commit(txn), "txn_commit(compact)")
        committed = true
        store.dbFileChanged()
        cond.lock(); chunksCommitted += 1; cond.unlock()
        if exhausted { store.publish { $0.finishedCompactRevision = max($0.finishedCompactRevision, rev) } }
        return (lastKey, exhausted)
    }
}

extension MVCCStore {
    /// The revision up to which compaction physically finished (-1: none).
    public var finishedCompactRevision: Int64 {
        var r: Int64 = 0
        publish { r = $0.finishedCompactRevision }
        return r
    }

    /// Compaction chunks (LMDB write txns) committed since the store opened.
    public var compactionChunksCommitted: Int { compactor.committedChunks }

    /// Blocks until the physical compaction to `revision` has finished
    /// (etcd answers a `physical` Compact only then). Call off the apply loop.
    public func waitForCompaction(_ revision: Int64) {
        compactor.wait(for: revision)
    }
}
