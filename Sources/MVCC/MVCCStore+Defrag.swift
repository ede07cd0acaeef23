import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension MVCCStore {
    /// etcd's backend Defrag: rewrites the database into a compacted copy
    /// (LMDB `MDB_CP_COMPACT`: live pages only, free pages dropped) and
    /// swaps it in, so the file shrinks to what the data needs.
    ///
    /// Holds `envGate` exclusively throughout: reads and the apply loop wait
    /// for the copy (time proportional to the live data, as etcd's defrag
    /// blocks its backend). The copy is fsynced and checked before the old
    /// environment closes, and renamed over `data.mdb` atomically, so a crash
    /// at any point leaves either the old or the new file, both complete.
    /// Returns the file size before and after.
    @discardableResult
    public func defragment() throws -> (beforeBytes: Int64, afterBytes: Int64) {
        try envGate.exclusive {
            let before = dbSizeBytes
            let data = path + "/data.mdb", copy = path + "/data.mdb.defrag"
            unlink(copy)
            let fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            if fd < 0 { throw KVError(.internal, "mvcc: defrag: cannot create \(copy): errno \(errno)") }
            var rc = mdb_env_copyfd2(env, fd, UInt32(MDB_CP_COMPACT))
            if rc == 0 && fsync(fd) != 0 { rc = errno }
            Glibc.close(fd)
            if rc != 0 {
                unlink(copy)
                throw KVError.storage("defrag copy", rc)
            }
            do {
                _ = try Self.snapshotInfo(copy)
            } catch {
                unlink(copy)
                throw error
            }
            abortPooledReadTxns()
            mdb_env_close(env)
            if rename(copy, data) != 0 {
                let e = errno
                // The old file is still in place: reopen it.
                env = try Self.openEnv(path: path, options: options).0
                throw KVError(.internal, "mvcc: defrag: rename: errno \(e)")
            }
            let dirFD = open(path, O_RDONLY | O_DIRECTORY)
            if dirFD >= 0 { _ = fsync(dirFD); Glibc.close(dirFD) }
            let (newEnv, newDBs, _) = try Self.openEnv(path: path, options: options)
            env = newEnv
            // A fresh environment numbers the databases in open order, as before.
            precondition(newDBs.rev == dbs.rev && newDBs.index == dbs.index && newDBs.meta == dbs.meta,
                         "mvcc: defrag reopened the databases with other handles")
            return (before, dbSizeBytes)
        }
    }
}
