import Bolt
import Config
import Foundation
import Logging
import MVCC
import Raft
import WAL
import Support

/// `swift-etcd snapshot restore`: builds a fresh member data dir from a
/// snapshot file, as etcdutl does for etcd.
///
/// The result holds every key and revision of the snapshot, a new identity
/// (member and cluster IDs from the new `--initial-cluster*` flags, so the
/// restored cluster never talks to the old one), and a bootstrapped Raft
/// state: a WAL whose hard state commits one conf change per member at term
/// 1, and a Raft snapshot at that index with every member a voter. The
/// store's consistent index is set to that index, so every entry of the new
/// log after it applies.
///
/// All of it is built in a sibling temp dir and renamed into place at the
/// end: a bad file or any failure leaves nothing behind, and an existing
/// data dir is never touched.
public struct SnapshotRestore {
    public let file: String
    public let options: SnapshotRestoreOptions
    let logger: Logger
    /// For `migrate`: the etcd member's WAL directory, whose committed
    /// entries after the database's consistent index join the new log.
    var etcdWALDir: String?

    public init(file: String, options: SnapshotRestoreOptions, logger: Logger) {
        self.file = file
        self.options = options
        self.logger = logger
    }

    /// What a restore produced.
    public struct Result: Sendable, Equatable {
        public var memberID: UInt64
        public var clusterID: UInt64
        public var revision: Int64
        public var dataDir: String
    }

    public func run() throws -> Result {
        let (metadata, memberIDs) = try identity()
        let members = try memberTable()
        if !options.walDir.isEmpty {
            throw RestoreError("--wal-dir is not supported: swift-etcd keeps the WAL in <data-dir>/member/wal")
        }
        let fm = FileManager.default
        try DataDirLock.checkNotInUse(dataDir: options.dataDir)
        if fm.fileExists(atPath: options.dataDir) { throw RestoreError("data-dir \"\(options.dataDir)\" exists") }

        let snapshot = try SnapshotFile(path: file)
        let tmp = options.dataDir.hasSuffix("/") ? String(options.dataDir.dropLast()) : options.dataDir
        let building = tmp + ".restoring-\(getpid())"
        for leftover in Self.removeAbandonedBuilds(of: tmp) {
            logger.warning("removed an unfinished restore left by a killed process", metadata: ["path": "\(leftover)"])
        }
        do {
            // Held until the restore returns, also across the final rename
            // (the lock file moves with the dir): no member starts on a
            // half-built dir.
            let lock = try DataDirLock.acquire(dataDir: building)
            defer { lock.release() }
            let layout = DataDirLayout(dataDir: building)
            try fm.createDirectory(atPath: layout.dbPath, withIntermediateDirectories: true, attributes: [.posixPermissions: MVCCStore.dirMode])
            logger.info("restoring snapshot", metadata: ["path": "\(file)", "data-dir": "\(options.dataDir)"])
            let (revision, etcdIndex, removedIDs) = try restoreStore(snapshot, into: layout)
            let bootstrapIndex = UInt64(memberIDs.count)
            // A flag value: checked, not trapped on (the store refuses a sum past Int64).
            guard let bump = Int64(exactly: options.bumpRevision), !revision.addingReportingOverflow(bump).overflow else {
                throw RestoreError("--bump-revision \(options.bumpRevision) takes the revision past \(Int64.max)")
            }
            try MVCCStore.prepareRestored(dir: layout.dbPath, consistentIndex: bootstrapIndex,
                                          bumpRevision: bump, markCompacted: options.markCompacted)
            let etcdTail = try etcdWALDir.map { try committedEntries(walDir: $0, after: etcdIndex) }
            let tail = etcdTail?.requests ?? []
            try writeRaftState(layout: layout, metadata: metadata, memberIDs: memberIDs, tail: tail)
            // The membership the new cluster starts with (as etcd's restore
            // re-adds the members from the flags), read at start instead of the flags.
            try Membership.writeInitial(members, path: layout.memberDir + "/members.json")
            // etcdutl's restore trims `members_removed` with the members; `migrate`
            // keeps the etcd cluster's removed IDs, so a removed member stays refused
            // (except an ID the new --initial-cluster lists again).
            let keptRemoved = Set(removedIDs + (etcdTail?.removedIDs ?? [])).subtracting(members.map(\.id))
            if etcdWALDir != nil && !keptRemoved.isEmpty {
                try DurableFile.write(Array(try JSONEncoder().encode(keptRemoved.sorted())),
                                      to: RemovedMembersFile.path(besides: layout.memberDir + "/members.json"))
            }
            try FileIO.syncDirectory(layout.snapDir)
            if rename(building, tmp) != 0 {
                throw RestoreError("could not rename \(building) to \(tmp): \(String(cString: strerror(errno)))")
            }
            try FileIO.syncDirectory(PathParts.split(tmp).dir)
            logger.info("restored snapshot", metadata: [
                "path": "\(file)", "data-dir": "\(options.dataDir)",
                "member-id": "\(String(metadata.memberID, radix: 16))",
                "cluster-id": "\(String(metadata.clusterID, radix: 16))",
            ])
            return Result(memberID: metadata.memberID, clusterID: metadata.clusterID,
                          revision: revision + bump, dataDir: options.dataDir)
        } catch {
            try? fm.removeItem(atPath: building)
            throw error
        }
    }

    /// Builds the store in `layout.dbPath` from the snapshot (either
    /// format); returns its revision. An etcd file is imported (every
    /// revision, the compaction point, leases, auth kept raw, alarms); an
    /// old swift-etcd LMDB copy is copied as it is.
    private func restoreStore(_ snapshot: SnapshotFile, into layout: DataDirLayout) throws
        -> (revision: Int64, consistentIndex: UInt64, removedMemberIDs: [UInt64]) {
        switch snapshot.format {
        case .etcdBackend:
            try snapshot.verifyDigest(skipHashCheck: options.skipHashCheck)
            let imported: EtcdImportResult
            do {
                imported = try MVCCStore.importEtcdBackend(try snapshot.boltReader(), into: layout.dbPath)
            } catch let e as BoltReadError {
                throw RestoreError(e.description)
            } catch let e as MVCCError {
                throw RestoreError(e.message)
            }
            if !imported.alarms.isEmpty {
                try AlarmStore.write(imported.alarms.map { AlarmStore.Alarm(memberID: $0.memberID, type: $0.type) },
                                 to: layout.memberDir + "/alarms")
            }
            logger.info("imported etcd backend", metadata: [
                "revision": "\(imported.revision)", "compact-revision": "\(imported.compactRevision)",
                "changes": "\(imported.changes)", "leases": "\(imported.leases)",
                "etcd-consistent-index": "\(imported.consistentIndex)", "etcd-term": "\(imported.term)",
            ])
            return (imported.revision, imported.consistentIndex, imported.removedMemberIDs)
        case .lmdb:
            if etcdWALDir != nil { throw RestoreError("\(snapshot.path) is not an etcd backend file") }
            try SnapshotFileCopy.copyVerified(from: snapshot.path, to: layout.dbPath + "/data.mdb", skipHashCheck: options.skipHashCheck)
            // Refuse a copy that is not a store before building anything on it.
            return (try MVCCStore.snapshotFileStatus(layout.dbPath + "/data.mdb").revision, 0, [])
        }
    }

    /// The requests etcd committed after its database's consistent index
    /// (normal entries with data, in log order), read from its WAL, and the
    /// members its committed conf changes there removed.
    private func committedEntries(walDir: String, after index: UInt64) throws -> (requests: [[UInt8]], removedIDs: [UInt64]) {
        let wal: EtcdWALDecoder.Contents
        do { wal = try EtcdWALReader.read(dir: walDir, afterIndex: index) } catch let e as EtcdWALError {
            throw RestoreError(e.description)
        }
        let committed = wal.entries.filter { $0.index <= wal.hardState.commit }
        let normal = committed.filter { $0.type == 0 && !$0.data.isEmpty }
        let authChanges = normal.filter { EtcdAuthRequests.authField(in: $0.data) != nil }.count
        let requests = normal.compactMap { EtcdAuthRequests.forReplay($0.data) }
        logger.info("read etcd WAL", metadata: [
            "wal-dir": "\(walDir)", "db-consistent-index": "\(index)", "commit-index": "\(wal.hardState.commit)",
            "entries-after-db": "\(wal.entries.count)", "committed": "\(committed.count)", "requests-to-apply": "\(requests.count)",
            "auth-requests": "\(authChanges)", "authenticate-left-out": "\(normal.count - requests.count)",
        ])
        let removed = committed.compactMap(\.removedNodeID)
        if !removed.isEmpty {
            logger.info("members removed in etcd WAL", metadata: ["removed-member-ids": "\(removed.map { String($0, radix: 16) })"])
        }
        return (requests, removed)
    }

    /// Removes `<data-dir>.restoring-*` left by a restore that was killed
    /// (its process is gone, so no restore is using them); returns their paths.
    @discardableResult
    static func removeAbandonedBuilds(of dataDir: String) -> [String] {
        let leftovers = abandonedBuilds(of: dataDir)
        for path in leftovers { try? FileManager.default.removeItem(atPath: path) }
        return leftovers
    }

    /// `<data-dir>.restoring-<pid>` dirs whose restore process is gone. A
    /// restore builds there and renames to `<data-dir>` as its last step,
    /// so one of these means a restore was killed before it finished.
    public static func abandonedBuilds(of dataDir: String) -> [String] {
        let (dir, name) = PathParts.split(dataDir)
        let prefix = name + ".restoring-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { name in
            guard name.hasPrefix(prefix) else { return false }
            if let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) == 0 { return false }
            return true
        }.map { dir + "/" + $0 }
    }

    /// Why a member must not start on `dataDir`: it does not exist but a
    /// killed restore was building it (starting would bootstrap an empty
    /// cluster instead of the restored data). Nil when there is no such leftover.
    public static func interruptedRestoreMessage(dataDir: String) -> String? {
        guard !FileManager.default.fileExists(atPath: dataDir),
              let leftover = abandonedBuilds(of: dataDir).first else { return nil }
        return "data-dir \"\(dataDir)\" does not exist, but \(leftover) shows a `snapshot restore` into it was " +
            "interrupted: run the same `swift-etcd snapshot restore` command again (it removes the leftover), " +
            "or remove \(leftover) to start an empty member"
    }

    /// The new member's identity, checked as etcd's VerifyBootstrap does:
    /// `--name` must be in `--initial-cluster` with exactly the advertised peer URLs.
    /// Every member of the new cluster, as `Membership` persists them.
    func memberTable() throws -> [ClusterMember] {
        let cluster: InitialCluster
        do { cluster = try InitialCluster.parse(options.initialCluster) } catch { throw RestoreError(error.message) }
        return cluster.members.map { m in
            let urls = m.peerURLs.map(\.string)
            return ClusterMember(id: MemberIdentity.memberID(peerURLs: urls, clusterToken: options.initialClusterToken),
                                 name: m.name, peerURLs: urls, clientURLs: [])
        }.sorted { $0.id < $1.id }
    }

    func identity() throws -> (MemberMetadata, [UInt64]) {
        let cluster: InitialCluster
        do { cluster = try InitialCluster.parse(options.initialCluster) } catch {
            throw RestoreError(error.message)
        }
        if cluster.hasDuplicateURL { throw RestoreError("initial cluster \(options.initialCluster) has duplicate url") }
        let advertised = options.initialAdvertisePeerURLs.map(\.string)
        guard let own = cluster[options.name] else {
            throw RestoreError("couldn't find local name \"\(options.name)\" in the initial cluster configuration")
        }
        if own.map(\.string).sorted() != advertised.sorted() {
            throw RestoreError("--initial-cluster has \(options.name)=\(own.map(\.string).joined(separator: ",")) but missing from --initial-advertise-peer-urls=\(advertised.joined(separator: ","))")
        }
        let ids = cluster.members.map {
            MemberIdentity.memberID(peerURLs: $0.peerURLs.map(\.string), clusterToken: options.initialClusterToken)
        }
        let metadata = MemberMetadata(
            memberID: MemberIdentity.memberID(peerURLs: advertised, clusterToken: options.initialClusterToken),
            clusterID: MemberIdentity.clusterID(memberIDs: ids))
        return (metadata, ids.sorted())
    }

    /// etcd's saveWALAndSnap: one AddNode conf change per member at term 1,
    /// and a Raft snapshot at the last of them; then `tail` (requests to
    /// apply at first start, from `migrate`) as normal entries. All committed.
    private func writeRaftState(layout: DataDirLayout, metadata: MemberMetadata, memberIDs: [UInt64], tail: [[UInt8]]) throws {
        let wal = try WAL.create(dir: layout.walDir, metadata: metadata.encoded)
        defer { try? wal.close() }
        var entries = memberIDs.enumerated().map { i, id in
            Entry(term: 1, index: UInt64(i + 1), type: .confChange, data: ConfChange(type: .addNode, nodeID: id).encoded())
        }
        let snapshotIndex = UInt64(entries.count)
        for data in tail { entries.append(Entry(term: 1, index: UInt64(entries.count + 1), type: .normal, data: data)) }
        try wal.save(hardState: HardState(term: 1, vote: memberIDs[0], commit: UInt64(entries.count)), entries: entries)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: snapshotIndex, term: 1, confState: ConfState(voters: memberIDs)))
        try SnapshotStore(dir: layout.snapDir).save(snapshot)
        try wal.saveSnapshotMarker(WALSnapshotMarker(index: snapshotIndex, term: 1))
    }
}

/// A restore or status failure, with the message the CLI prints.
public struct RestoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
