import CLMDB
import Foundation
import Support

/// A consistent read of the whole store that may last minutes (a snapshot
/// streamed to a slow client) without copying anything: one LMDB read txn
/// of its own, opened once, read in short steps (`read`).
///
/// Writes go on meanwhile; LMDB keeps the pages this view sees until it
/// closes (the file may grow by what is written meanwhile). Each step takes
/// `envGate` shared only while it runs, never across a wait for the
/// client, so the view blocks nobody. A `defragment` waits a while for
/// open views to close, then ends them; `replace` (a Raft snapshot
/// installed) and `close` end them at once: a later `read` throws
/// `unavailable` saying why, and the caller gives up its stream.
///
/// Not for concurrent use: one caller steps through a view.
public final class StoreReadView: @unchecked Sendable {
    let store: MVCCStore
    private let lock = NSLock()
    /// Nil once closed or ended (guarded by `lock`).
    private var txn: OpaquePointer?
    /// Cursors opened in `txn`, closed with it (guarded by `lock`).
    private var cursors: [OpaquePointer] = []
    /// Why the view ended, when the store ended it (guarded by `lock`).
    private var endReason: String?

    /// The store's state this view sees.
    public let revision: Int64
    /// Reads below it are refused (-1 before the first compaction).
    public let compactRevision: Int64
    /// Physical compaction done up to here (changes at or below
    /// `compactRevision` and above this may still be on disk).
    public let finishedCompactRevision: Int64
    public let consistentIndex: UInt64

    init(store: MVCCStore) throws {
        self.store = store
        var t: OpaquePointer?
        var values: (Int64, Int64, Int64, Int64) = (1, -1, -1, 0)
        try store.envGate.shared {
            if store.isClosed { throw MVCCStore.closedError }
            try LMDB.check(mdb_txn_begin(store.env, nil, UInt32(MDB_RDONLY), &t), "txn_begin(view)")
            let r = KVReader(txn: t!, dbs: store.dbs)
            do {
                values = (try r.meta(.revision) ?? 1, try r.meta(.scheduledCompact) ?? -1,
                          try r.meta(.finishedCompact) ?? -1, try r.meta(.consistentIndex) ?? 0)
            } catch {
                mdb_txn_abort(t)
                throw error
            }
        }
        txn = t
        (revision, compactRevision, finishedCompactRevision) = (values.0, values.1, values.2)
        consistentIndex = UInt64(bitPattern: values.3)
    }

    deinit { close() }

    /// Runs one step of reading. Throws `unavailable` once the view ended.
    func read<R>(_ body: (KVReader) throws -> R) throws -> R {
        store.envGate.lockShared()
        defer { store.envGate.unlockShared() }
        let t: OpaquePointer? = lock.withLock { txn }
        guard let t else {
            throw MVCCError(.unavailable, "mvcc: snapshot view ended: \(lock.withLock { endReason } ?? "closed")")
        }
        return try body(KVReader(txn: t, dbs: store.dbs))
    }

    /// A cursor on `dbi` living as long as the view; call inside `read`.
    func cursor(_ dbi: MDB_dbi) throws -> Cursor {
        let cursor = try Cursor(lock.withLock { txn! }, dbi)
        lock.withLock { cursors.append(cursor.ptr) }
        return cursor
    }

    /// Releases the txn (LMDB may reuse the pages it held).
    public func close() {
        store.envGate.shared { end(reason: nil) }
        store.readViews.remove(self)
    }

    /// Ends the view; with `reason`, later reads say why. Call holding
    /// `envGate` (shared from `close`, exclusively from the store).
    func end(reason: String?) {
        lock.withLock {
            for c in cursors { mdb_cursor_close(c) }
            cursors.removeAll()
            if let t = txn { mdb_txn_abort(t) }
            txn = nil
            if let reason, endReason == nil { endReason = reason }
        }
    }
}

/// The store's open views, so the operations that close the LMDB
/// environment can end them first. A view is not opened while a defrag
/// runs (its swap would end it): it waits for the defrag, as etcd's
/// snapshot waits for its defrag, and both succeed.
final class ReadViewRegistry: @unchecked Sendable {
    private let cond = MonotonicCondition()
    private var views: [ObjectIdentifier: Weak] = [:]  // guarded by `cond`
    /// Defrags between `beginDefrag` and `endDefrag` (guarded by `cond`).
    private var defrags = 0
    /// Views between `beginOpen` and `add`/`abandonOpen` (guarded by `cond`).
    private var opening = 0

    private struct Weak { weak var view: StoreReadView? }

    var isDefragmenting: Bool { cond.withLock { defrags > 0 } }

    /// Call before opening a view, holding no store lock: waits while a defrag runs.
    func beginOpen() {
        cond.withLock {
            while defrags > 0 { cond.wait() }
            opening += 1
        }
    }

    func abandonOpen() { changing { opening -= 1 } }

    func add(_ view: StoreReadView) {
        changing {
            views[ObjectIdentifier(view)] = Weak(view: view)
            opening -= 1
        }
    }

    /// Holds new views back until `endDefrag`, and waits up to `seconds`
    /// for the open ones (and those being opened) to close.
    func beginDefrag(seconds: Double) {
        let deadline = MonotonicClock.deadline(afterSeconds: seconds)
        cond.withLock {
            defrags += 1
            while opening > 0 || views.values.contains(where: { $0.view != nil }) {
                if !cond.wait(untilNanoseconds: deadline) { return }
            }
        }
    }

    func endDefrag() { changing { defrags -= 1 } }

    func remove(_ view: StoreReadView) { changing { views[ObjectIdentifier(view)] = nil } }

    /// Runs `body` holding `cond`, then wakes its waiters.
    private func changing(_ body: () -> Void) {
        cond.withLock {
            body()
            cond.broadcast()
        }
    }

    var count: Int { cond.withLock { views.values.filter { $0.view != nil }.count } }

    /// Ends every open view. Call holding `envGate` exclusively.
    func endAll(reason: String) {
        let open = cond.withLock { views.values.compactMap(\.view) }
        for view in open { view.end(reason: reason) }
    }
}

extension MVCCStore {
    /// Opens a consistent view of the whole store (see `StoreReadView`);
    /// blocks while a defrag runs (callers that must not block wait for
    /// `isDefragmenting` to clear first).
    public func openReadView() throws -> StoreReadView {
        readViews.beginOpen()
        let view: StoreReadView
        do { view = try StoreReadView(store: self) } catch {
            readViews.abandonOpen()
            throw error
        }
        readViews.add(view)
        return view
    }

    /// A defrag runs: `openReadView` would wait for it.
    public var isDefragmenting: Bool { readViews.isDefragmenting }

    /// Seconds a `defragment` waits for open views before ending them.
    static let defragViewWaitSeconds = 30.0
}
