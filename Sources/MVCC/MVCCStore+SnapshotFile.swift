import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `swift-etcd snapshot status` prints (etcdutl's snapshot.Status).
public struct SnapshotFileStatus: Equatable, Sendable {
    /// CRC-32C over every database's name, keys and values.
    public var hash: UInt32
    /// The store revision the file holds.
    public var revision: Int64
    /// Entries in all databases (etcdutl counts every bucket's keys).
    public var totalKey: Int
    /// The database's size in bytes (without an appended SHA-256).
    public var totalSize: Int64
}

extension MVCCStore {
    /// Reads a snapshot file (an LMDB copy, possibly followed by the 32-byte
    /// SHA-256 of the stream: LMDB ignores bytes past its last page) and
    /// checks that it is a swift-etcd store. Throws a message naming the
    /// file when it is not.
    public static func snapshotFileStatus(_ path: String) throws -> SnapshotFileStatus {
        try withSnapshotFile(path) { txn, dbs, size in
            let r = KVReader(txn: txn, dbs: dbs)
            let (hash, entries) = try contentHash(txn: txn, dbs: dbs)
            return SnapshotFileStatus(hash: hash, revision: try r.meta(.revision) ?? 1, totalKey: entries,
                                      totalSize: size)
        }
    }

    /// Opens a snapshot file read-only and runs `body` in a read txn with the
    /// store's databases. The size passed is the file's, rounded down to
    /// whole LMDB pages (what is left after an appended checksum).
    static func withSnapshotFile<R>(_ path: String, _ body: (OpaquePointer, Databases, Int64) throws -> R) throws -> R {
        var st = stat()
        if stat(path, &st) != 0 { throw MVCCError(.fileNotFound, "open \(path): no such file or directory") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw MVCCError(.invalidInput, "\(path) is not a regular file") }
        var e: OpaquePointer?
        try LMDB.check(mdb_env_create(&e), "env_create")
        defer { mdb_env_close(e) }
        try LMDB.check(mdb_env_set_maxdbs(e, 4), "set_maxdbs")
        try LMDB.check(mdb_env_set_mapsize(e, Int(st.st_size) + (1 << 20)), "set_mapsize")
        let notStore = MVCCError(.invalidInput, "\(path) is not a swift-etcd snapshot (an LMDB store copy)")
        guard mdb_env_open(e, path, UInt32(MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK), 0o644) == 0 else { throw notStore }
        var txn: OpaquePointer?
        guard mdb_txn_begin(e, nil, UInt32(MDB_RDONLY), &txn) == 0 else { throw notStore }
        defer { mdb_txn_abort(txn) }
        func open(_ name: String) throws -> MDB_dbi {
            var dbi: MDB_dbi = 0
            guard mdb_dbi_open(txn, name, 0, &dbi) == 0 else { throw notStore }
            return dbi
        }
        let dbs = Databases(rev: try open("rev"), index: try open("index"), meta: try open("meta"))
        var info = MDB_envinfo()
        mdb_env_info(e, &info)
        var dbStat = MDB_stat()
        mdb_env_stat(e, &dbStat)
        let pageSize = Int64(max(dbStat.ms_psize, 1))
        return try body(txn!, dbs, Int64(st.st_size) / pageSize * pageSize)
    }

    /// Prepares a store directory just restored from a snapshot for a new
    /// Raft log (etcdutl `snapshot restore`): sets the consistent index to
    /// `consistentIndex` (the bootstrap entries of the new log, which the
    /// store must not skip past), and optionally raises the revision by
    /// `bumpRevision` and marks it compacted, so watchers and caches of the
    /// old cluster see a clean break (etcd 3.5's --bump-revision and
    /// --mark-compacted). No store may be open on `dir`.
    public static func prepareRestored(dir: String, consistentIndex: UInt64, bumpRevision: Int64 = 0,
                                       markCompacted: Bool = false) throws {
        let store = try MVCCStore(path: dir)
        defer { store.close() }
        var txnPtr: OpaquePointer?
        try LMDB.check(mdb_txn_begin(store.env, nil, 0, &txnPtr), "txn_begin(restore)")
        let txn = txnPtr!
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }
        let r = KVReader(txn: txn, dbs: store.dbs)
        let (revision, overflow) = (try r.meta(.revision) ?? 1).addingReportingOverflow(bumpRevision)
        guard !overflow, bumpRevision >= 0 else {
            throw MVCCError(.invalidInput, "bump revision \(bumpRevision) takes the revision past Int64")
        }
        func set(_ key: MetaKey, _ value: Int64) throws {
            var name = key.rawValue
            try name.withUTF8 { n in
                try withUnsafeBytes(of: value.littleEndian) { v in
                    try LMDB.put(txn, store.dbs.meta, UnsafeRawBufferPointer(n), v)
                }
            }
        }
        try set(.consistentIndex, Int64(bitPattern: consistentIndex))
        try set(.revision, revision)
        if markCompacted { try set(.scheduledCompact, revision) }
        try LMDB.check(mdb_txn_commit(txn), "txn_commit(restore)")
        committed = true
        store.dbFileChanged()
        try store.sync()
    }
}
