import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Support

/// What a snapshot file holds.
public struct SnapshotInfo: Equatable, Sendable {
    public var consistentIndex: UInt64
    public var revision: Int64
    public var sizeBytes: Int64
}

extension MVCCStore {
    /// Writes a consistent, compacted copy of the whole store to the file
    /// `path` (LMDB `mdb_env_copyfd2` with MDB_CP_COMPACT inside one read
    /// txn; writers keep going meanwhile) and fsyncs it. Returns the
    /// consistent index and revision the copy holds.
    @discardableResult
    public func snapshot(to path: String) throws -> SnapshotInfo {
        let tmp = path + ".tmp"
        try maintenanceLock.withLock { try writeCompactCopy(to: tmp) }
        if rename(tmp, path) != 0 { throw MVCCError(.internal, "mvcc: rename \(tmp): errno \(errno)") }
        return try Self.snapshotInfo(path)
    }

    /// Reads the consistent index and revision stored in a snapshot file.
    public static func snapshotInfo(_ path: String) throws -> SnapshotInfo {
        var st = stat()
        if stat(path, &st) != 0 { throw MVCCError(.internal, "mvcc: no snapshot at \(path)") }
        var e: OpaquePointer?
        try LMDB.check(mdb_env_create(&e), "env_create")
        defer { mdb_env_close(e) }
        try LMDB.check(mdb_env_set_maxdbs(e, 4), "set_maxdbs")
        try LMDB.check(mdb_env_set_mapsize(e, Int(st.st_size) + (1 << 20)), "set_mapsize")
        try LMDB.check(mdb_env_open(e, path, UInt32(MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK), 0o644), "env_open \(path)")
        var txn: OpaquePointer?
        try LMDB.check(mdb_txn_begin(e, nil, UInt32(MDB_RDONLY), &txn), "txn_begin")
        defer { mdb_txn_abort(txn) }
        var meta: MDB_dbi = 0
        try LMDB.check(mdb_dbi_open(txn, "meta", 0, &meta), "dbi_open meta")
        let r = KVReader(txn: txn!, dbs: Databases(rev: 0, index: 0, meta: meta))
        return SnapshotInfo(consistentIndex: UInt64(bitPattern: try r.meta(.consistentIndex) ?? 0),
                            revision: try r.meta(.revision) ?? 1, sizeBytes: Int64(st.st_size))
    }

    /// Replaces the store directory `dir` with the snapshot file (no store
    /// may be open on `dir`). Open an `MVCCStore` on `dir` afterwards.
    public static func restore(from snapshotPath: String, to dir: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: dirMode])
        let data = dir + "/data.mdb", tmp = dir + "/data.mdb.restore"
        try? fm.removeItem(atPath: tmp)
        try fm.copyItem(atPath: snapshotPath, toPath: tmp)
        chmod(tmp, fileMode)  // copyItem keeps the source's mode
        let fd = open(tmp, O_RDONLY)
        if fd < 0 { throw MVCCError(.internal, "mvcc: open \(tmp): errno \(errno)") }
        FileIO.fsync(fd, path: tmp)
        Glibc.close(fd)
        if rename(tmp, data) != 0 { throw MVCCError(.internal, "mvcc: rename to \(data): errno \(errno)") }
        try FileIO.syncDirectory(dir)
        try? fm.removeItem(atPath: dir + "/lock.mdb")
    }

    /// Bytes in pages the databases use (etcd's db size in use): the file
    /// minus LMDB's free pages, estimated from the trees' page counts.
    public var dbSizeInUseBytes: Int64 {
        (try? withReadTxn { rd -> Int64 in
            var pages: Int64 = 2  // the two meta pages
            var pageSize: Int64 = 4096
            for dbi in [dbs.rev, dbs.index, dbs.meta, 0, 1] {
                var s = MDB_stat()
                if mdb_stat(rd.txn, dbi, &s) == 0 {
                    pageSize = Int64(s.ms_psize)
                    pages += Int64(s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages)
                }
            }
            return pages * pageSize
        }) ?? 0
    }

    /// Number of records (changes) stored; for tests and stats.
    func recordCount() throws -> Int {
        try withReadTxn { rd in
            var st = MDB_stat()
            try LMDB.check(mdb_stat(rd.txn, dbs.rev, &st), "stat")
            return st.ms_entries
        }
    }
}
