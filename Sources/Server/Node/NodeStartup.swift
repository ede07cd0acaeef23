import Foundation
import Logging
import MVCC
import Raft
import WAL

/// Who this member is and which cluster it belongs to; persisted as the WAL
/// metadata so a restarted member ignores the `--initial-cluster*` flags and
/// recovers its identity from disk, as etcd does.
struct MemberMetadata: Equatable {
    var memberID: UInt64
    var clusterID: UInt64

    var encoded: [UInt8] {
        memberID.bigEndianBytes + clusterID.bigEndianBytes
    }

    init(memberID: UInt64, clusterID: UInt64) {
        self.memberID = memberID
        self.clusterID = clusterID
    }

    init(decoding bytes: [UInt8]) throws {
        guard bytes.count >= 16 else { throw StartupError("WAL metadata is \(bytes.count) bytes, expected 16: not a swift-etcd data dir?") }
        memberID = UInt64(bigEndianBytes: bytes[0..<8])
        clusterID = UInt64(bigEndianBytes: bytes[8..<16])
    }
}

struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The data dir belongs to a member that was removed from the cluster (it
/// applied its own removal before it stopped): etcd stops such a member at
/// start-up with these words and exit status 0.
public struct MemberRemovedError: Error, CustomStringConvertible {
    public let dataDir: String
    public var description: String { "the member has been permanently removed from the cluster" }
}

/// The member's directories, laid out as etcd's (`member/wal`, `member/snap`).
struct DataDirLayout {
    let dataDir: String
    /// `--wal-dir` (the WAL on its own disk); empty: `<data-dir>/member/wal`.
    var dedicatedWALDir = ""
    var memberDir: String { dataDir + "/member" }
    var walDir: String { dedicatedWALDir.isEmpty ? memberDir + "/wal" : dedicatedWALDir }
    var snapDir: String { memberDir + "/snap" }
    /// The MVCC store (LMDB), next to the Raft snapshots as etcd keeps `snap/db`.
    var dbPath: String { snapDir + "/db" }
}

/// Opens or creates the Raft state of a member: the newest valid snapshot,
/// the WAL after it, and a `RawNode` restarted (or bootstrapped) from them.
struct RestoredNode {
    var node: RawNode
    var storage: MemoryStorage
    var wal: WAL
    var snapshots: SnapshotStore
    var metadata: MemberMetadata
    var confState: ConfState
    var snapshotIndex: UInt64
    var isNew: Bool

    /// How the files are kept: `--max-wals`, `--max-snapshots`,
    /// `--unsafe-no-fsync` (in the WAL options), `--force-new-cluster`.
    struct Settings {
        var wal = WALOptions()
        var maxSnapshots = 5
        var forceNewCluster = false
    }

    static func open(layout: DataDirLayout, newMember: MemberMetadata, initialPeers: [UInt64],
                     raftConfig: RaftConfig, settings: Settings = Settings(), logger: Logger) throws -> RestoredNode {
        let fm = FileManager.default
        try fm.createDirectory(atPath: layout.snapDir, withIntermediateDirectories: true, attributes: [.posixPermissions: MVCCStore.dirMode])
        let snapshots = try SnapshotStore(dir: layout.snapDir, maxSnapshots: settings.maxSnapshots)
        let storage = MemoryStorage()
        var config = raftConfig

        guard try WAL.hasSegments(dir: layout.walDir, options: settings.wal) else {
            let wal = try WAL.create(dir: layout.walDir, metadata: newMember.encoded, options: settings.wal)
            config.applied = 0
            var node = try RawNode(config: config, storage: storage)
            // No initial peers: a member joining a running cluster
            // (--initial-cluster-state existing) takes its configuration
            // from the leader's log, which starts with the bootstrap conf changes.
            if !initialPeers.isEmpty { try node.bootstrap(peers: initialPeers) }
            logger.info("starting local member", metadata: [
                "local-member-id": .id(newMember.memberID), "cluster-id": .id(newMember.clusterID),
            ])
            return RestoredNode(node: node, storage: storage, wal: wal, snapshots: snapshots, metadata: newMember,
                                confState: ConfState(voters: initialPeers), snapshotIndex: 0, isNew: true)
        }

        // The newest snapshot file whose WAL marker is committed, and the WAL
        // after it; one read of the WAL when that is the newest file.
        var snapshot: Snapshot?
        let opened: (wal: WAL, metadata: [UInt8], hardState: HardState, entries: [Entry], marker: WALSnapshotMarker)
        do {
            opened = try WAL.open(dir: layout.walDir, expecting: try snapshots.newestMarker() ?? .zero, options: settings.wal) { valid in
                snapshot = try snapshots.loadNewest(validMarkers: valid)
                return snapshot.map { WALSnapshotMarker(index: $0.metadata.index, term: $0.metadata.term) } ?? .zero
            }
        } catch let error as WALError {
            throw DataFileError(error, walDir: layout.walDir)
        }
        let metadata = try MemberMetadata(decoding: opened.metadata)
        if let snapshot { try storage.applySnapshot(snapshot) }
        var hardState = opened.hardState
        var entries = opened.entries
        if settings.forceNewCluster {
            let rewrite = ForceNewCluster.rewrite(hardState: hardState, entries: entries,
                                                  confState: snapshot?.metadata.confState ?? ConfState(),
                                                  firstIndex: (snapshot?.metadata.index ?? 0) + 1, localID: metadata.memberID)
            if rewrite.discardedUncommitted > 0 {
                logger.info("discarding uncommitted WAL entries", metadata: [
                    "entry-index": .uint(hardState.commit + 1), "commit-index-from-wal": .uint(hardState.commit),
                    "number-of-discarded-entries": .int(rewrite.discardedUncommitted)])
            }
            // Durable before Raft sees them: a crash now restarts into the same one-member cluster.
            if !rewrite.forced.isEmpty { try opened.wal.save(hardState: rewrite.hardState, entries: rewrite.forced) }
            hardState = rewrite.hardState
            entries = rewrite.entries
            logger.info("forcing restart member", metadata: [
                "cluster-id": .id(metadata.clusterID), "local-member-id": .id(metadata.memberID),
                "commit-index": .uint(hardState.commit), "removed-members": .int(rewrite.forced.count)])
        }
        storage.setHardState(hardState)
        try storage.append(entries)

        // Raft re-delivers every committed entry after the snapshot: conf
        // changes are applied to the node again (membership is not in the
        // store), while the applier skips entries the store already holds
        // (index ≤ its consistent index).
        let snapshotIndex = snapshot?.metadata.index ?? 0
        config.id = metadata.memberID
        config.applied = snapshotIndex
        let node = try RawNode(config: config, storage: storage)
        let confState = node.status().confState
        logger.info("restarting local member", metadata: [
            "cluster-id": .id(metadata.clusterID), "local-member-id": .id(metadata.memberID),
            "commit-index": .uint(opened.hardState.commit), "snapshot-index": .uint(snapshotIndex),
            "entries": .int(opened.entries.count),
        ])
        return RestoredNode(node: node, storage: storage, wal: opened.wal, snapshots: snapshots, metadata: metadata,
                            confState: confState, snapshotIndex: snapshotIndex, isNew: false)
    }
}
