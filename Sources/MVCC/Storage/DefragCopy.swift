import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The compacted copy `defragment` builds next to `data.mdb`, open as its
/// own LMDB environment (`data.mdb.defrag`, lock file `data.mdb.defrag-lock`)
/// so changes the live store committed after the copy was taken can be
/// replayed into it before it is swapped in.
///
/// Why replaying is simple: between the copy and the swap (compaction is
/// paused meanwhile) the live store only appends. Every write request adds
/// records with a larger main revision to `rev` plus one index duplicate
/// each (derived from the record), and may change small values in `meta`
/// (revision, consistent index, compaction marks, leases). So catching up is
/// "copy the `rev` records after revision R, rebuild their index entries",
/// and, at the very end, "replace `meta`".
///
/// Not thread-safe: used by the one defrag that holds the store's
/// `maintenanceLock`.
final class DefragCopy {
    static let suffix = ".defrag"

    let path: String
    private let env: OpaquePointer
    private let dbs: Databases
    private var isClosed = false
    /// The revision the copy is complete up to.
    private(set) var revision: Int64

    /// Removes a copy and its lock file, left by a defrag that failed or was killed.
    static func removeLeftovers(dataFile: String) {
        unlink(dataFile + suffix)
        unlink(dataFile + suffix + "-lock")
    }

    /// Opens the copy file `path` (written by `mdb_env_copyfd2`).
    init(path: String, mapSizeBytes: Int) throws {
        self.path = path
        (env, dbs, revision) = try Self.open(path: path, mapSizeBytes: mapSizeBytes)
    }

    private static func open(path: String, mapSizeBytes: Int) throws -> (OpaquePointer, Databases, Int64) {
        var e: OpaquePointer?
        try LMDB.check(mdb_env_create(&e), "env_create(defrag copy)")
        let env = e!
        var ok = false
        defer { if !ok { mdb_env_close(env) } }
        try LMDB.check(mdb_env_set_maxdbs(env, 4), "set_maxdbs")
        try LMDB.check(mdb_env_set_mapsize(env, mapSizeBytes), "set_mapsize")
        // NOSYNC: `sync()` flushes at the points the swap depends on.
        try LMDB.check(mdb_env_open(env, path, UInt32(MDB_NOSUBDIR | MDB_NOTLS | MDB_NOSYNC), MVCCStore.fileMode),
                       "env_open \(path)")
        var txn: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, 0, &txn), "txn_begin")
        defer { if txn != nil { mdb_txn_abort(txn) } }
        func open(_ name: String, _ flags: Int32) throws -> MDB_dbi {
            var dbi: MDB_dbi = 0
            try LMDB.check(mdb_dbi_open(txn, name, UInt32(flags), &dbi), "dbi_open \(name) (defrag copy)")
            return dbi
        }
        let dbs = Databases(rev: try open("rev", 0), index: try open("index", MDB_DUPSORT | MDB_DUPFIXED),
                            meta: try open("meta", 0))
        let revision = try KVReader(txn: txn!, dbs: dbs).meta(.revision) ?? 1
        // Handles opened in a txn become visible to others only on commit.
        let rc = mdb_txn_commit(txn)
        txn = nil
        try LMDB.check(rc, "txn_commit")
        ok = true
        return (env, dbs, revision)
    }

    deinit { close() }

    func close() {
        if isClosed { return }
        isClosed = true
        mdb_env_close(env)
    }

    /// Replays every change of `live` (a read txn of the live store) after
    /// `revision` into the copy, in one write txn, and, when `withMeta`,
    /// makes the copy's `meta` db equal to the live one. Returns the number
    /// of records copied. Memory stays flat: records stream from one
    /// environment's cursor into the other's txn.
    @discardableResult
    func catchUp(from live: KVReader, withMeta: Bool) throws -> Int {
        let liveRevision = try live.meta(.revision) ?? 1
        var txnPtr: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, 0, &txnPtr), "txn_begin(defrag catch-up)")
        let txn = txnPtr!
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }
        var copied = 0
        if liveRevision > revision {
            let cursor = try Cursor(live.txn, live.dbs.rev)
            defer { cursor.close() }
            var k = MDB_val(), d = MDB_val()
            var more = try Revision(main: revision + 1, sub: 0).withKey { start in
                k = MDB_val(mv_size: start.count, mv_data: UnsafeMutableRawPointer(mutating: start.baseAddress))
                return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
            }
            while more {
                let revKey = LMDB.bytes(k), record = LMDB.bytes(d)
                try copyRecord(txn, revKey: revKey, record: record)
                copied += 1
                more = try cursor.op(MDB_NEXT, key: &k, value: &d)
            }
        }
        if withMeta { try replaceMeta(txn, from: live) }
        try LMDB.check(mdb_txn_commit(txn), "txn_commit(defrag catch-up)")
        committed = true
        revision = max(revision, liveRevision)
        return copied
    }

    /// One `rev` record and the index duplicate `KVWriter.writeChange` made
    /// with it (under the key's `IndexKey`).
    private func copyRecord(_ txn: OpaquePointer, revKey: UnsafeRawBufferPointer, record: UnsafeRawBufferPointer) throws {
        // Revisions only grow, so every record appends at the end of the db.
        try LMDB.put(txn, dbs.rev, revKey, record, flags: UInt32(MDB_APPEND))
        let create = Int64(littleEndian: record.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        let version = Int64(littleEndian: record.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        let keyLen = Int(UInt32(littleEndian: record.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
        let key = UnsafeRawBufferPointer(rebasing: record[Codec.recordHeaderSize ..< Codec.recordHeaderSize + keyLen])
        try IndexEntry(revision: Revision(key: revKey), createRevision: create, version: version).withBytes { e in
            try IndexKey.with(key) { ik in try LMDB.put(txn, dbs.index, ik, e) }
        }
    }

    /// Empties the copy's `meta` and fills it with every live entry (a few
    /// named values and one entry per lease).
    private func replaceMeta(_ txn: OpaquePointer, from live: KVReader) throws {
        try LMDB.check(mdb_drop(txn, dbs.meta, 0), "drop meta (defrag copy)")
        let cursor = try Cursor(live.txn, live.dbs.meta)
        defer { cursor.close() }
        var k = MDB_val(), d = MDB_val()
        var more = try cursor.op(MDB_FIRST, key: &k, value: &d)
        while more {
            try LMDB.put(txn, dbs.meta, LMDB.bytes(k), LMDB.bytes(d), flags: UInt32(MDB_APPEND))
            more = try cursor.op(MDB_NEXT, key: &k, value: &d)
        }
    }

    /// Entries in (rev, index, meta): compared with the live store's before the swap.
    func entryCounts() throws -> [Int] {
        var txn: OpaquePointer?
        try LMDB.check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn), "txn_begin(read)")
        defer { mdb_txn_abort(txn) }
        return try Self.entryCounts(txn!, dbs)
    }

    static func entryCounts(_ txn: OpaquePointer, _ dbs: Databases) throws -> [Int] {
        try [dbs.rev, dbs.index, dbs.meta].map { dbi in
            var st = MDB_stat()
            try LMDB.check(mdb_stat(txn, dbi, &st), "stat")
            return st.ms_entries
        }
    }

    /// Flushes every committed txn of the copy to disk (fsync).
    func sync() throws {
        try LMDB.check(mdb_env_sync(env, 1), "env_sync(defrag copy)")
    }
}
