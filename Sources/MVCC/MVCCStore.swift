import CLMDB
import Foundation

/// etcd's MVCC key-value store on LMDB.
///
/// Layout: see `Codec`. The key index (etcd keeps it in memory as a btree of
/// key → generations) lives in LMDB as a DUPSORT db, in the same environment
/// and the same write txns as the data. Why: no rebuild at start-up (seconds
/// at a million keys), no second copy of every key in the Swift heap (RSS),
/// and readers get a consistent snapshot of index + data + revision from one
/// LMDB read txn with no locks against the writer. The cost is a B-tree
/// lookup per key read instead of a pointer chase. LMDB's 511-byte key limit
/// is worked around for longer etcd keys by `IndexKey`.
///
/// Threads: one writer (the apply loop calls `apply(batch:)`) and any number
/// of concurrent readers (`range`, `events`, ...), each on its own LMDB read
/// txn (MDB_NOTLS, pooled). Background compaction takes LMDB's writer lock in
/// short chunks between apply batches.
///
/// Durability (`SyncMode`): by default commits do not fsync (MDB_NOSYNC).
/// Acknowledged writes are durable in the Raft WAL, which is replayed from
/// `consistentIndex` after a restart; the consistent index is committed in the
/// same LMDB txn as the changes, so a replay neither loses nor re-applies
/// anything. A process crash (kill -9) loses nothing (the OS page cache holds
/// the commits). After power loss LMDB may lose its latest txns, and LMDB's
/// docs warn a NOSYNC db can even be damaged unless the filesystem keeps
/// write order; so call `sync()` before the WAL is truncated past
/// `consistentIndex` (Raft snapshot/log compaction), and pick `.noMetaSync`
/// (one fdatasync per batch, power-loss safe) when that risk is unacceptable.
public final class MVCCStore: @unchecked Sendable {
    public enum SyncMode: Sendable {
        /// No fsync on commit (MDB_NOSYNC); see the type's doc.
        case noSync
        /// fdatasync of data pages per commit, meta page unsynced
        /// (MDB_NOMETASYNC): a system crash may undo the last batch only.
        case noMetaSync
        /// Full fsync per commit.
        case full
    }

    /// Modes of the store's files and of the directories made for them:
    /// the owner's alone, as etcd's (0600 bolt file, 0700 dirs). The store
    /// holds every key, auth's password hashes among them, and a data dir
    /// made by someone else (0755, a package's) must not open it to all.
    public static let fileMode: mode_t = 0o600
    public static let dirMode: Int = 0o700

    public struct Options: Sendable {
        /// Upper bound of the database size (LMDB map size); address space only.
        public var mapSizeBytes: Int = 64 << 30
        public var syncMode: SyncMode = .noSync
        /// Max concurrent read txns.
        public var maxReaders: Int = 1024
        /// Keys visited per background compaction chunk (one LMDB write txn
        /// each): etcd's `--experimental-compaction-batch-limit`.
        public var compactionChunkKeys: Int = 1000
        /// Pause between two compaction chunks, so the apply loop and
        /// readers get the disk (`--experimental-compaction-sleep-interval`;
        /// the server passes etcd's 10 ms default).
        public var compactionSleep: Duration = .zero
        /// When commits unmap data.mdb pages (see `MapResidency`).
        var mapTrim = MapTrimPolicy()
        public init() {}
    }

    /// Replaced only by `defragment`; use it only while holding `envGate`
    /// shared (any txn), replace it only holding it exclusively.
    var env: OpaquePointer
    let envGate = EnvGate()
    /// Held by `apply(batch:)` for each batch; `defragment` holds it for its
    /// short final catch-up and swap, to pause the apply loop. Lock order:
    /// `maintenanceLock` → compactor pause → `writerGate` → `envGate`.
    let writerGate = NSLock()
    /// One whole-store copy at a time (`defragment`, `snapshot(to:)`), so a
    /// defrag's swap never waits for a long copy holding `envGate`.
    let maintenanceLock = NSLock()
    /// Open `StoreReadView`s, ended before the environment closes.
    let readViews = ReadViewRegistry()
    /// Phase timings of the last `defragment` (guarded by `lock`).
    private var lastDefragValue: DefragTimings?
    /// What the last `defragment` of this store spent, nil before the first.
    public internal(set) var lastDefrag: DefragTimings? {
        get { lock.withLock { lastDefragValue } }
        set { lock.withLock { lastDefragValue = newValue } }
    }
    /// Tests only: runs in `defragment` after the copy is written, before
    /// the catch-up (writes may be applied from it).
    var afterDefragCopy: (() -> Void)?
    let dbs: Databases
    let options: Options
    /// The directory holding data.mdb.
    public let path: String
    /// Called after each apply batch's LMDB commit with its duration in
    /// nanoseconds (etcd's backend_commit_duration_seconds). Set before use.
    public var commitObserver: (@Sendable (UInt64) -> Void)?

    /// Guards `published`, `readPool`, `closed`, `fileSize`.
    private let lock = NSLock()
    /// Values as of the last commit; the writer updates them after commit.
    private var published: Published
    private var readPool: [OpaquePointer] = []
    private var closed = false
    /// `data.mdb`'s size as last `stat`ed, valid while `generation` is
    /// unchanged; a commit that moved LMDB's last page and every file swap
    /// call `dbFileChanged()`.
    private var fileSize = FileSizeCache()
    var compactor: Compactor!
    /// Unmaps data.mdb pages no request needs, after commits (writer only).
    let residency: MapResidency
    /// Counts of ranges that reads need not walk again (`RangeCounts`).
    let rangeCounts = RangeCounts(revision: 1)

    struct FileSizeCache {
        var bytes: Int64?
        var generation: UInt64 = 0
        /// LMDB's last used page after the commit that last changed
        /// `generation` (nil: unknown, e.g. after a file swap).
        var lastPage: Int?
    }

    struct Published {
        var revision: Int64
        var compactRevision: Int64
        var finishedCompactRevision: Int64
        var consistentIndex: UInt64
        /// Keys alive at `revision` (`MetaKey.liveKeys`).
        var liveKeys: Int64
    }

    public convenience init(path: String, mapSizeBytes: Int) throws {
        var o = Options()
        o.mapSizeBytes = mapSizeBytes
        try self.init(path: path, options: o)
    }

    /// Opens (creating if needed) the store in directory `path`.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        residency = MapResidency(policy: options.mapTrim)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw StoreFileError(file: path, offset: nil,
                                 reason: "not a directory (the store is a directory holding data.mdb and lock.mdb)",
                                 unreadable: true)
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: Self.dirMode])
        DefragCopy.removeLeftovers(dataFile: path + "/data.mdb")  // a defrag killed mid-copy
        try StoreFileCheck.verify(dataFile: path + "/data.mdb")
        try StoreFileCheck.verify(lockFile: path + "/lock.mdb")
        do {
            (env, dbs, published) = try Self.openEnv(path: path, options: options)
        } catch let e as MVCCError where e.lmdbCode.map(StoreFileCheck.meansDamage) == true {
            throw StoreFileError(file: path + "/data.mdb", offset: nil, reason: e.message,
                                 unreadable: e.lmdbCode == EACCES || e.lmdbCode == EISDIR)
        }
        rangeCounts.reset(revision: published.revision)
        compactor = Compactor(store: self, chunkKeys: options.compactionChunkKeys, sleep: options.compactionSleep)
        if published.compactRevision > published.finishedCompactRevision {
            compactor.schedule(published.compactRevision)  // resume after a restart
        }
    }

    static func openEnv(path: String, options: Options) throws -> (OpaquePointer, Databases, Published) {
        var e: OpaquePointer?
        try LMDB.check(mdb_env_create(&e), "env_create")
        let env = e!
        var ok = false
        defer { if !ok { mdb_env_close(env) } }
        try LMDB.check(mdb_env_set_maxdbs(env, 4), "set_maxdbs")
        try LMDB.check(mdb_env_set_mapsize(env, options.mapSizeBytes), "set_mapsize")
        try LMDB.check(mdb_env_set_maxreaders(env, UInt32(options.maxReaders)), "set_maxreaders")
        var flags = UInt32(MDB_NOTLS | MDB_NORDAHEAD)
        switch options.syncMode {
        case .noSync: flags |= UInt32(MDB_NOSYNC)
        case .noMetaSync: flags |= UInt32(MDB_NOMETASYNC)
        case .full: break
        }
        try LMDB.check(mdb_env_open(env, path, flags, Self.fileMode), "env_open \(path)")

        var txn: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, 0, &txn), "txn_begin")
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }
        func open(_ name: String, _ f: Int32) throws -> MDB_dbi {
            var dbi: MDB_dbi = 0
            try LMDB.check(mdb_dbi_open(txn, name, UInt32(MDB_CREATE | f), &dbi), "dbi_open \(name)")
            return dbi
        }
        let dbs = Databases(rev: try open("rev", 0), index: try open("index", MDB_DUPSORT | MDB_DUPFIXED),
                            meta: try open("meta", 0))
        let r = KVReader(txn: txn!, dbs: dbs)
        var published = Published(revision: try r.meta(.revision) ?? 1,
                                  compactRevision: try r.meta(.scheduledCompact) ?? -1,
                                  finishedCompactRevision: try r.meta(.finishedCompact) ?? -1,
                                  consistentIndex: UInt64(bitPattern: try r.meta(.consistentIndex) ?? 0),
                                  liveKeys: try r.meta(.liveKeys) ?? 0)
        if try r.meta(.liveKeys) == nil {
            published.liveKeys = try r.countLiveKeys(atRev: published.revision)
            try KVWriter(txn: txn!, dbs: dbs, revision: published.revision, readOnly: true)
                .setMeta(.liveKeys, published.liveKeys)
        }
        try LMDB.check(mdb_txn_commit(txn), "txn_commit")
        committed = true
        ok = true
        return (env, dbs, published)
    }

    deinit { close() }

    /// What a read or write that comes after `close` gets.
    static let closedError = MVCCError(.unavailable, "mvcc: the store closed")

    /// Whether `close` began; read holding `envGate` shared, it stays true
    /// for as long as that is held (`close` waits for the gate).
    var isClosed: Bool { lock.withLock { closed } }

    /// Stops background compaction (it resumes on the next open) and closes
    /// LMDB. No call may be running or follow.
    public func close() {
        lock.lock()
        if closed { lock.unlock(); return }
        closed = true
        lock.unlock()
        compactor.stop()
        lock.lock()
        for t in readPool { mdb_txn_abort(t) }
        readPool.removeAll()
        lock.unlock()
        envGate.exclusive {
            readViews.endAll(reason: "the store closed")
            mdb_env_close(env)
        }
    }

    /// Aborts the pooled read txns: they belong to the environment
    /// `defragment` is about to close. Call holding `envGate` exclusively.
    func abortPooledReadTxns() {
        lock.lock()
        for t in readPool { mdb_txn_abort(t) }
        readPool.removeAll()
        lock.unlock()
    }

    // MARK: published state

    private func snapshotPublished() -> Published {
        lock.lock(); defer { lock.unlock() }
        return published
    }

    /// The revision of the last committed write (1 for an empty store, as etcd).
    public var currentRevision: Int64 { snapshotPublished().revision }
    /// Reads below this revision are refused; -1 before the first compaction.
    public var compactRevision: Int64 { snapshotPublished().compactRevision }
    /// Index of the last applied Raft entry (0: none).
    public var consistentIndex: UInt64 { snapshotPublished().consistentIndex }
    /// Keys alive at the current revision (etcd_debugging_mvcc_keys_total),
    /// kept by every write: reading it costs nothing.
    public var liveKeyCount: Int64 { snapshotPublished().liveKeys }

    func publish(_ update: (inout Published) -> Void) {
        lock.lock(); defer { lock.unlock() }
        update(&published)
    }

    // MARK: file size

    /// Size of the database file (etcd's db size). The quota guard asks
    /// before every write, so it is `stat`ed once per change of the file,
    /// not once per request (etcd reads its own in-memory size the same way).
    /// Not once per commit either, and without asking for the timestamps
    /// (`clmdb_file_size`): a `stat` marks them as seen, so the next write
    /// to the file takes a fine-grained time that advances the kernel's
    /// timestamp floor (multigrain timestamps, Linux 6.13+), which gives the
    /// WAL segment a new mtime on its next write and makes every WAL
    /// `fdatasync` write the segment's inode too.
    public var dbSizeBytes: Int64 {
        let (cached, generation) = lock.withLock { (fileSize.bytes, fileSize.generation) }
        if let cached { return cached }
        let size = max(0, clmdb_file_size(path + "/data.mdb"))
        // A commit between the read above and the stat changed the
        // generation: the size may predate it, so it is not cached.
        lock.withLock { if fileSize.generation == generation { fileSize.bytes = size } }
        return size
    }

    /// Forgets the cached file size: call after every LMDB commit (the file
    /// may have grown) and every swap of `data.mdb`.
    func dbFileChanged() {
        lock.withLock {
            fileSize.generation &+= 1
            fileSize.bytes = nil
            fileSize.lastPage = nil
        }
    }

    /// After a commit of the writer on `env`: LMDB (without MDB_WRITEMAP)
    /// writes only pages up to its last used page, and the commit that
    /// first used that page wrote it, so while the last page stays where it
    /// was the file cannot have grown and the cached size stays valid.
    func committed(on env: OpaquePointer) {
        var info = MDB_envinfo()
        let lastPage = mdb_env_info(env, &info) == 0 ? info.me_last_pgno : nil
        lock.withLock {
            guard lastPage == nil || lastPage != fileSize.lastPage else { return }
            fileSize.generation &+= 1
            fileSize.bytes = nil
            fileSize.lastPage = lastPage
        }
    }

    // MARK: read txns

    /// Runs `body` on a pooled read txn (a consistent snapshot).
    func withReadTxn<R>(_ body: (KVReader) throws -> R) throws -> R {
        envGate.lockShared()
        defer { envGate.unlockShared() }
        lock.lock()
        // `close` sets `closed` before it waits for the gate exclusively: a
        // read that comes after (a watch catch-up, a read on an event loop
        // during shutdown) must not touch the freed environment.
        if closed { lock.unlock(); throw Self.closedError }
        let pooled = readPool.popLast()
        lock.unlock()
        var txn: OpaquePointer
        if let pooled {
            try LMDB.check(mdb_txn_renew(pooled), "txn_renew")
            txn = pooled
        } else {
            var t: OpaquePointer?
            try LMDB.check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &t), "txn_begin(read)")
            txn = t!
        }
        defer {
            mdb_txn_reset(txn)
            lock.lock()
            if readPool.count < 64 && !closed { readPool.append(txn); lock.unlock() } else { lock.unlock(); mdb_txn_abort(txn) }
        }
        return try body(KVReader(txn: txn, dbs: dbs))
    }

    /// Reads the (revision, compact revision) stored in a snapshot.
    func revisions(_ r: KVReader) throws -> (current: Int64, compact: Int64) {
        (try r.meta(.revision) ?? 1, try r.meta(.scheduledCompact) ?? -1)
    }

    // MARK: reads

    /// A Range served from the local store (serializable). Validation
    /// (the server's `Validation.check`) is the caller's job, as in etcd's gRPC layer.
    public func range(_ r: RangeRequest) throws -> RangeResponse {
        try withReadTxn { rd in
            let (cur, compact) = try revisions(rd)
            return try rd.applyRange(r, curRev: cur, compactRev: compact, counts: rangeCounts)
        }
    }

    /// A read-only txn (`TxnRequest.isReadOnly`) served locally, as etcd
    /// does without Raft.
    public func readOnlyTxn(_ t: TxnRequest) throws -> TxnResponse {
        precondition(t.isReadOnly, "readOnlyTxn with writes")
        return try withReadTxn { rd in
            let (cur, compact) = try revisions(rd)
            var w = try KVWriter(txn: rd.txn, dbs: dbs, revision: cur, readOnly: true)
            return try w.applyTxn(t, compactRev: compact, leaseExists: { _ in false })
        }
    }

    /// Forces LMDB's pending commits to disk (needed with `.noSync` before the
    /// WAL drops entries up to `consistentIndex`). Nothing once the store is
    /// closed (`close` synced it last): the background sync may get here
    /// after a stop closed the store, and the environment is then freed.
    public func sync() throws {
        try envGate.shared {
            // `close` sets `closed` before it waits for the gate exclusively.
            if isClosed { return }
            try LMDB.check(mdb_env_sync(env, 1), "env_sync")
        }
    }
}
