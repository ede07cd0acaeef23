import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Support

extension MVCCStore {
    /// Replaces the whole store with `file`, an LMDB copy of another member's
    /// store (a Raft snapshot received from the leader), and returns what it
    /// now holds. The file must be complete and fsynced, in the same
    /// directory tree as the store (it is renamed, not copied).
    ///
    /// Holds `envGate` exclusively: reads and compaction chunks finish
    /// first, later ones see the new environment. The swap is one rename over
    /// `data.mdb` followed by a directory fsync, so a crash leaves either the
    /// old or the new database, each complete. The published revision,
    /// compaction state and consistent index become the file's; a physical
    /// compaction the file had not finished resumes in the background, and
    /// one under way here starts over on the new file.
    /// Call from the apply thread (no `apply` may run meanwhile).
    @discardableResult
    public func replace(withDatabaseFile file: String) throws -> SnapshotInfo {
        let info = try Self.snapshotInfo(file)  // refuse a file LMDB cannot open before closing ours
        // Not in the middle of a defrag (its catch-up assumes this env only grows).
        maintenanceLock.lock()
        defer { maintenanceLock.unlock() }
        let published: Published = try envGate.exclusive {
            readViews.endAll(reason: "a snapshot from the leader replaced the store")
            abortPooledReadTxns()
            mdb_env_close(env)
            let data = path + "/data.mdb"
            if rename(file, data) != 0 {
                let e = errno
                env = try Self.openEnv(path: path, options: options).0  // the old file is still in place
                throw MVCCError(.internal, "mvcc: replace: rename \(file): errno \(e)")
            }
            // The store's own directory: it exists while the store is open.
            try? FileIO.syncDirectory(path)
            let (newEnv, newDBs, published) = try Self.openEnv(path: path, options: options)
            env = newEnv
            rangeCounts.reset(revision: published.revision)  // no reader runs until the gate opens
            precondition(newDBs.rev == dbs.rev && newDBs.index == dbs.index && newDBs.meta == dbs.meta,
                         "mvcc: replace reopened the databases with other handles")
            compactor.storeReplaced()
            return published
        }
        publish { $0 = published }
        dbFileChanged()
        if published.compactRevision > published.finishedCompactRevision {
            compactor.schedule(published.compactRevision)
        }
        return info
    }
}
