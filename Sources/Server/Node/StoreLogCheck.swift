import Foundation

/// Whether the MVCC store and the Raft log found at start-up belong together.
///
/// The store records the index of the last entry it applied (its consistent
/// index); the log is the newest snapshot file plus the WAL after it. Raft
/// replays the entries after the snapshot and the applier skips those the
/// store already holds, which is right only when the two overlap. A store
/// that is missing or replaced (older than the snapshot, whose entries the
/// WAL no longer holds) would serve a state with holes; a WAL that is missing
/// or lost its tail behind a single member's store would have the member
/// propose new entries at indexes the store already applied, so their writes
/// are skipped and never answered. Both are refused, naming the file, as etcd
/// refuses a backend older than its snapshot.
///
/// A store ahead of the log is legal only in one case: a follower installs a
/// received store before it writes the snapshot marker, and a crash between
/// the two leaves the store at exactly that snapshot's index, noted by
/// `StoreInstallMarker`; the leader sends the entries again. Otherwise
/// nothing is applied before its entry is durable in the WAL, so the WAL
/// lost entries this member applied (a cut or torn-off tail): a follower
/// started like that never caught up (the leader's commit index was past
/// its log, so it never answered) and still voted; etcd 3.5.1 stops it at
/// the leader's first heartbeat ("tocommit(…) is out of range
/// [lastIndex(…)]").
enum StoreLogCheck {
    struct Found {
        /// The store's consistent index.
        var storeIndex: UInt64
        /// The WAL existed at start (false: a new member is being created).
        var walExisted: Bool
        /// The newest snapshot file's index (0: none).
        var snapshotIndex: UInt64
        /// The last index the log holds (snapshot or WAL entry).
        var lastLogIndex: UInt64
        /// The snapshot index of a store install a crash interrupted
        /// (`StoreInstallMarker`), if any.
        var pendingInstallIndex: UInt64? = nil
    }

    /// Throws the `DataFileError` that stops start-up, or returns.
    static func verify(_ found: Found, layout: DataDirLayout, lastSegment: String?) throws {
        let dbFile = layout.dbPath + "/data.mdb"
        if !found.walExisted {
            guard found.storeIndex == 0 else {
                throw DataFileError(file: layout.walDir, offset: nil,
                                    problem: "no WAL segments, but the store \(dbFile) has applied entries up to index "
                                        + "\(found.storeIndex): the WAL was deleted or --wal-dir names another directory",
                                    remedy: "Start with the --wal-dir that holds this member's WAL. Otherwise, to recover, "
                                        + DataFileError.rebuildMember)
            }
            return
        }
        if found.storeIndex < found.snapshotIndex {
            throw DataFileError(file: dbFile, offset: nil,
                                problem: "the store has applied entries up to index \(found.storeIndex), older than the "
                                    + "snapshot at index \(found.snapshotIndex): the store was deleted or replaced",
                                remedy: "To recover, " + DataFileError.rebuildMember)
        }
        if found.storeIndex > found.lastLogIndex && found.storeIndex != found.pendingInstallIndex {
            throw DataFileError(file: lastSegment ?? layout.walDir, offset: nil,
                                problem: "the log ends at index \(found.lastLogIndex), but the store \(dbFile) has applied "
                                    + "entries up to index \(found.storeIndex): the WAL lost entries this member had applied "
                                    + "(data dir \(layout.dataDir))",
                                remedy: "To recover, " + DataFileError.rebuildMember)
        }
    }
}

extension StoreLogCheck {
    /// The path of the newest `*.wal` segment in `walDir`, if any.
    static func lastSegment(walDir: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: walDir)) ?? []
        return names.filter { $0.hasSuffix(".wal") }.max().map { walDir + "/" + $0 }
    }
}
