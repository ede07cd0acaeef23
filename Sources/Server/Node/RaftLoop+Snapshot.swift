import Foundation
import Raft
import Support
import WAL

/// Raft snapshots and log compaction, on the loop thread after a Ready.
extension RaftLoop {
    func maybeSnapshot() {
        // Never past Raft's commit index: entries applied during their own
        // fsync are committed only by the next Ready.
        let upTo = min(appliedIndex, node.commitIndex)
        guard let decision = snapshotPolicy.decide(appliedIndex: upTo, lastSnapshotIndex: lastSnapshotIndex) else { return }
        do {
            // The MVCC store persists itself (with its applied index), so the
            // Raft snapshot only records the log position and membership; a
            // follower that needs it gets a copy of the store with it
            // (`SnapshotSender`).
            let snap = try storage.createSnapshot(index: decision.snapshotIndex, confState: confState, data: [])
            try snapshots.save(snap)
            try wal.saveSnapshotMarker(WALSnapshotMarker(index: snap.metadata.index, term: snap.metadata.term))
            try beforeLogRelease()
            // No replication floor: a follower behind the compacted log gets
            // the snapshot with a copy of the store (`SnapshotSender`).
            let hold = holdsLogForSnapshotCatchUp()
            let compactIndex = hold ? 0 : decision.compactIndex
            // Below the first index already (after a restart or an installed
            // snapshot, the log starts at the snapshot): nothing to drop.
            if !hold {
                if compactIndex >= (try storage.firstIndex()) { try storage.compact(upTo: compactIndex) }
                try wal.releaseSegments(before: compactIndex)
            }
            lastSnapshotIndex = decision.snapshotIndex
            logger.info("saved snapshot", metadata: ["snapshot-index": "\(decision.snapshotIndex)",
                                                    "compact-index": "\(compactIndex)"])
            if hold { logger.info("skip compaction since there is an inflight snapshot") }
        } catch {
            logger.error("failed to save snapshot", metadata: ["error": "\(error)"])
        }
    }

    /// etcd's rule: no log compaction while a snapshot is on its way to a
    /// follower, nor for `logHoldAfterSnapshotSeconds` after it arrived, so
    /// the follower finds the entries that follow it. Without it, a follower
    /// catching up under steady writes found every snapshot stale on
    /// arrival and got the next one, never catching up (10 in a row in a
    /// run with --snapshot-count 100; etcd 3.5.1 caught up after 2).
    func holdsLogForSnapshotCatchUp() -> Bool {
        MonotonicClock.nanoseconds() < logHoldUntilNanos || node.status().progress.values.contains { $0.state == .snapshot }
    }

    /// etcd's releaseDelayAfterSnapshot.
    static let logHoldAfterSnapshotSeconds = 30.0
}
