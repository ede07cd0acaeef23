import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension MVCCStore {
    /// Catch-up rounds run while writes go on; the last one (taken with
    /// writes paused) should find fewer than `defragPauseRecordsMax` records.
    static let defragCatchUpRoundsMax = 8
    static let defragPauseRecordsMax = 2000

    /// etcd's backend Defrag, online: rewrites the database into a compacted
    /// copy (LMDB `MDB_CP_COMPACT`: live pages only, free pages dropped) and
    /// swaps it in, so the file shrinks to what the data needs.
    ///
    /// Unlike etcd, writes and reads go on during the copy:
    /// 1. The copy reads one consistent read txn (`mdb_env_copyfd2`), so the
    ///    apply loop keeps committing; background compaction is paused for
    ///    the whole defrag (it deletes history, which the catch-up below does
    ///    not replay).
    /// 2. Catch-up rounds replay what was committed since into the copy
    ///    (`DefragCopy`), until little is left.
    /// 3. With the apply loop paused (`writerGate`) the last few records and
    ///    the `meta` db are replayed, the copy is fsynced and checked against
    ///    the live store (entry counts, revision, consistent index), then
    ///    the environments are swapped holding `envGate` exclusively (readers
    ///    wait only for the close/rename/open). The write pause is therefore
    ///    about one small batch plus an fsync of the pages it touched.
    ///
    /// Crash safety: the live `data.mdb` is not touched until the copy is
    /// complete and fsynced; `rename` swaps it atomically and the directory
    /// is fsynced after. A crash before the rename leaves the old file (the
    /// copy is removed at the next open), after it the new one; both hold
    /// every applied entry. Returns the file size before and after.
    @discardableResult
    public func defragment() throws -> (beforeBytes: Int64, afterBytes: Int64) {
        maintenanceLock.lock()
        defer { maintenanceLock.unlock() }
        return try compactor.paused {
            let before = dbSizeBytes
            let data = path + "/data.mdb", copyPath = data + DefragCopy.suffix
            DefragCopy.removeLeftovers(dataFile: data)
            var swapped = false
            defer { if !swapped { DefragCopy.removeLeftovers(dataFile: data) } }

            try writeCompactCopy(to: copyPath)
            afterDefragCopy?()
            let copy = try DefragCopy(path: copyPath, mapSizeBytes: options.mapSizeBytes)
            defer { copy.close() }
            for _ in 0..<Self.defragCatchUpRoundsMax {
                let n = try withReadTxn { try copy.catchUp(from: $0, withMeta: false) }
                try copy.sync()
                if n < Self.defragPauseRecordsMax { break }
            }

            writerGate.lock()
            defer { writerGate.unlock() }
            let liveCounts = try withReadTxn { rd -> [Int] in
                try copy.catchUp(from: rd, withMeta: true)
                return try DefragCopy.entryCounts(rd.txn, dbs)
            }
            try copy.sync()
            let copyCounts = try copy.entryCounts()
            copy.close()
            let info = try Self.snapshotInfo(copyPath)
            guard copyCounts == liveCounts, info.revision == currentRevision, info.consistentIndex == consistentIndex else {
                throw KVError(.internal, "mvcc: defrag: the copy does not match the store (entries \(copyCounts) vs " +
                              "\(liveCounts), revision \(info.revision) vs \(currentRevision)); store unchanged")
            }
            try envGate.exclusive {
                abortPooledReadTxns()
                mdb_env_close(env)
                if rename(copyPath, data) != 0 {
                    let e = errno
                    // The old file is still in place: reopen it.
                    env = try Self.openEnv(path: path, options: options).0
                    throw KVError(.internal, "mvcc: defrag: rename: errno \(e)")
                }
                swapped = true
                unlink(copyPath + "-lock")
                let dirFD = open(path, O_RDONLY | O_DIRECTORY)
                if dirFD >= 0 { _ = fsync(dirFD); Glibc.close(dirFD) }
                // The renamed copy holds every applied entry; a store that
                // cannot open it cannot go on (a restart opens it again).
                let (newEnv, newDBs, _): (OpaquePointer, Databases, Published)
                do {
                    (newEnv, newDBs, _) = try Self.openEnv(path: path, options: options)
                } catch {
                    fatalError("mvcc: defrag: cannot open the defragmented store: \(error)")
                }
                env = newEnv
                // A fresh environment numbers the databases in open order, as before.
                precondition(newDBs.rev == dbs.rev && newDBs.index == dbs.index && newDBs.meta == dbs.meta,
                             "mvcc: defrag reopened the databases with other handles")
            }
            return (before, dbSizeBytes)
        }
    }

    /// Writes a compacting copy of one consistent read txn to `path` and
    /// fsyncs it; writers go on meanwhile.
    func writeCompactCopy(to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw KVError(.internal, "mvcc: cannot create \(path): errno \(errno)") }
        var rc = envGate.shared { mdb_env_copyfd2(env, fd, UInt32(MDB_CP_COMPACT)) }
        if rc == 0 && fsync(fd) != 0 { rc = errno }
        Glibc.close(fd)
        if rc != 0 {
            unlink(path)
            throw KVError.storage("env_copy", rc)
        }
    }
}
