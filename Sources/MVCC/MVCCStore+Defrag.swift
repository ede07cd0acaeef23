import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Support

/// Where a defrag's time went (milliseconds).
public struct DefragTimings: Sendable, Equatable {
    /// The compacting copy, writes flowing.
    public var copyMs: Double = 0
    /// Catch-up rounds with writes flowing, and the records they replayed.
    public var catchUpMs: Double = 0
    public var catchUpRounds = 0
    public var catchUpRecords = 0
    /// Writes paused: last records + meta, fsync, checks, env swap.
    public var pauseMs: Double = 0
    /// Of `pauseMs`: waiting for readers and swapping the environments.
    public var swapMs: Double = 0
}

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
    /// is fsynced right after writes resume (a kill -9 sees the rename at
    /// once; a power loss before that fsync brings back the old file, whose
    /// consistent index makes the WAL replay the rest). A crash before the rename leaves the old file (the
    /// copy is removed at the next open), after it the new one; both hold
    /// every applied entry. Open `StoreReadView`s (snapshot streams) get
    /// `defragViewWaitSeconds` to finish before the defrag starts; any still
    /// open at the swap are ended (their next read throws `unavailable`).
    /// New views wait until the defrag is over.
    /// Returns the file size before and after.
    @discardableResult
    public func defragment() throws -> (beforeBytes: Int64, afterBytes: Int64) {
        // Snapshot streams read open views, which the swap ends: give them a
        // while to finish first (nothing is held; writes go on).
        readViews.beginDefrag(seconds: Self.defragViewWaitSeconds)
        defer { readViews.endDefrag() }
        maintenanceLock.lock()
        defer { maintenanceLock.unlock() }
        return try compactor.paused {
            let before = dbSizeBytes
            let data = path + "/data.mdb", copyPath = data + DefragCopy.suffix
            DefragCopy.removeLeftovers(dataFile: data)
            var swapped = false
            defer { if !swapped { DefragCopy.removeLeftovers(dataFile: data) } }

            var timings = DefragTimings()
            var clock = MonotonicClock.nanoseconds()
            func lap() -> Double {
                let now = MonotonicClock.nanoseconds()
                defer { clock = now }
                return Double(now &- clock) / 1e6
            }
            try writeCompactCopy(to: copyPath)
            timings.copyMs = lap()
            afterDefragCopy?()
            let copy = try DefragCopy(path: copyPath, mapSizeBytes: options.mapSizeBytes)
            defer { copy.close() }
            for _ in 0..<Self.defragCatchUpRoundsMax {
                let n = try withReadTxn { try copy.catchUp(from: $0, withMeta: false) }
                try copy.sync()
                timings.catchUpRounds += 1
                timings.catchUpRecords += n
                if n < Self.defragPauseRecordsMax { break }
            }
            timings.catchUpMs = lap()

            // Kept open over the swap, so the old file's last reference (and
            // the freeing of its blocks) goes after writes resume; the
            // directory fsync that makes the rename durable waits as well.
            let oldFile = open(data, O_RDONLY)
            defer {
                if oldFile >= 0 { Glibc.close(oldFile) }
                // The store's own directory: it exists while the store is open.
                if swapped { try? FileIO.syncDirectory(path) }
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
                throw MVCCError(.internal, "mvcc: defrag: the copy does not match the store (entries \(copyCounts) vs " +
                              "\(liveCounts), revision \(info.revision) vs \(currentRevision)); store unchanged")
            }
            let checked = lap()
            try envGate.exclusive {
                readViews.endAll(reason: "the store was defragmented")
                abortPooledReadTxns()
                mdb_env_close(env)
                if rename(copyPath, data) != 0 {
                    let e = errno
                    // The old file is still in place: reopen it.
                    env = try Self.openEnv(path: path, options: options).0
                    throw MVCCError(.internal, "mvcc: defrag: rename: errno \(e)")
                }
                swapped = true
                unlink(copyPath + "-lock")
                // The renamed copy holds every applied entry; a store that
                // cannot open it cannot go on (a restart opens it again).
                let (newEnv, newDBs, _): (OpaquePointer, Databases, Published)
                do {
                    (newEnv, newDBs, _) = try Self.openEnv(path: path, options: options)
                } catch {
                    ProcessStop.fatal("mvcc: defrag: cannot open the defragmented store: \(error)")
                }
                env = newEnv
                // A fresh environment numbers the databases in open order, as before.
                precondition(newDBs.rev == dbs.rev && newDBs.index == dbs.index && newDBs.meta == dbs.meta,
                             "mvcc: defrag reopened the databases with other handles")
            }
            dbFileChanged()
            timings.swapMs = lap()
            timings.pauseMs = checked + timings.swapMs
            lastDefrag = timings
            return (before, dbSizeBytes)
        }
    }

    /// Writes a compacting copy of one consistent read txn to `path` and
    /// fsyncs it; writers go on meanwhile. LMDB writes the copy into a pipe
    /// and this thread moves it to the file with an fdatasync every
    /// `copyFlushBytes`, so the disk never holds hundreds of MB of dirty copy
    /// pages that the WAL's next fsync would have to wait behind.
    func writeCompactCopy(to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, Self.fileMode)
        if fd < 0 { throw MVCCError(.internal, "mvcc: cannot create \(path): errno \(errno)") }
        defer { Glibc.close(fd) }
        var pipeFDs: [Int32] = [0, 0]
        if pipe(&pipeFDs) != 0 { unlink(path); throw MVCCError(.internal, "mvcc: pipe: errno \(errno)") }
        let (readFD, writeFD) = (pipeFDs[0], pipeFDs[1])
        defer { Glibc.close(readFD) }
        let copied = Latch()  // open once the copy thread is done
        let copyRC = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { copyRC.deallocate() }
        let env = UnsafeSendable(envGate: envGate, store: self, rc: copyRC)
        Thread.named("defrag-copy") {
            // LMDB blocks SIGPIPE in its own writer thread and reports EPIPE.
            env.rc.pointee = env.envGate.shared { mdb_env_copyfd2(env.store.env, writeFD, UInt32(MDB_CP_COMPACT)) }
            Glibc.close(writeFD)
            copied.open()
        }.start()
        // Drain the pipe to EOF even after a file error, so LMDB never writes into a closed pipe.
        var fileErrno: Int32 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var unsynced = 0
        while true {
            let n: Int
            do { n = try buffer.withUnsafeMutableBytes { try FileIO.read(readFD, into: $0.baseAddress!, count: $0.count) } } catch {
                if fileErrno == 0 { fileErrno = (error as? SystemCallError)?.errno ?? EIO }
                break
            }
            if n == 0 { break }
            if fileErrno != 0 { continue }
            do { try buffer.withUnsafeBytes { try FileIO.write(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: path) } } catch {
                fileErrno = (error as? SystemCallError)?.errno ?? EIO
                continue
            }
            unsynced += n
            if unsynced >= Self.copyFlushBytes {
                FileIO.fdatasync(fd, path: path)
                unsynced = 0
            }
        }
        copied.wait()
        let rc = copyRC.pointee != 0 ? copyRC.pointee : fileErrno
        if rc == 0 { FileIO.fsync(fd, path: path) }
        if rc != 0 {
            unlink(path)
            throw MVCCError.storage("env_copy", rc)
        }
    }

    /// Bytes of copy written between two fdatasyncs.
    static let copyFlushBytes = 16 << 20
}

/// What the copy thread needs; it finishes before `writeCompactCopy` returns.
private struct UnsafeSendable: @unchecked Sendable {
    let envGate: EnvGate
    let store: MVCCStore
    let rc: UnsafeMutablePointer<Int32>
}
