import Foundation
import Support
import Logging

/// One member as `Cluster.MemberList` shows it.
struct ClusterMember: Codable, Equatable, Sendable {
    var id: UInt64
    var name: String
    var peerURLs: [String]
    var clientURLs: [String]
    /// nil (absent in older members.json) means a voter.
    var learner: Bool? = nil
    var isLearner: Bool { learner ?? false }
}

/// The cluster's members: fixed at bootstrap from `--initial-cluster` (IDs
/// derived as etcd does), persisted next to the WAL (`members.json`, written
/// durably: temp file, fsync, rename) so a restarted member
/// finds its peers without the initial-cluster flags. Names and client URLs
/// of the other members arrive in their peer hellos (`MemberAttributes`).
/// Changes arrive as applied Raft conf changes (`confChangeApplied`).
final class Membership: @unchecked Sendable {
    private let lock = NSLock()
    private var members: [UInt64: ClusterMember]  // guarded by `lock`
    /// Members removed by an applied MemberRemove (etcd's `members_removed`):
    /// their hellos are answered "permanently removed", which stops them.
    private var removed: Set<UInt64>  // guarded by `lock`
    /// Serialises `persist`: peer hellos (event loops) and applied conf
    /// changes (the apply thread) persist concurrently, and two writers of
    /// the one temp file interleave (a torn or stale members.json).
    private let persistLock = NSLock()
    private let path: String
    private let logger: Logger

    init(members: [ClusterMember], path: String, logger: Logger) {
        self.members = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.removed = RemovedMembersFile.load(path: RemovedMembersFile.path(besides: path))
        self.path = path
        self.logger = logger
    }

    /// Writes the member table a new member starts with. Called before the
    /// WAL is created, so a data dir with a WAL always has members.json
    /// (`open` then treats a missing file as damage, never as "start from
    /// the flags").
    static func writeInitial(_ members: [ClusterMember], path: String) throws {
        try DurableFile.write(Array(try JSONEncoder().encode(members)), to: path)
    }

    /// The table `members` (read from `path` by `MembersFile`, or just
    /// written by `writeInitial`), persisted again with the local member's
    /// name and client URLs, which always come from its own flags.
    static func open(members: [ClusterMember], path: String, options: ServerOptions, localID: UInt64,
                     logger: Logger) -> Membership {
        var members = members
        if let i = members.firstIndex(where: { $0.id == localID }) {
            members[i].name = options.name
            members[i].clientURLs = options.advertiseClientURLs
        }
        let membership = Membership(members: members, path: path, logger: logger)
        membership.persist()
        return membership
    }

    var all: [ClusterMember] { lock.withLock { members.values.sorted { $0.id < $1.id } } }
    var count: Int { lock.withLock { members.count } }
    func member(_ id: UInt64) -> ClusterMember? { lock.withLock { members[id] } }

    /// Adds or replaces a member (applied MemberAdd/Promote); persists.
    func put(_ member: ClusterMember) {
        lock.withLock { members[member.id] = member }
        persist()
    }

    /// Removes a member (applied MemberRemove) for good; persists.
    func remove(_ id: UInt64) {
        let ids = lock.withLock { () -> Set<UInt64> in
            members.removeValue(forKey: id)
            removed.insert(id)
            return removed
        }
        persist()
        RemovedMembersFile.write(ids, path: RemovedMembersFile.path(besides: path), logger: logger)
    }

    /// Whether `id` was removed from the cluster (it may never come back).
    func isRemoved(_ id: UInt64) -> Bool { lock.withLock { removed.contains(id) } }
    /// Every removed member's ID, ascending (a snapshot's `members_removed`).
    var removedIDs: [UInt64] { lock.withLock { removed.sorted() } }

    /// Records a peer's attributes from its hello; persists when they changed.
    func update(_ id: UInt64, attributes: MemberAttributes) {
        let changed = lock.withLock { () -> Bool in
            guard var m = members[id], m.name != attributes.name || m.clientURLs != attributes.clientURLs else { return false }
            m.name = attributes.name
            m.clientURLs = attributes.clientURLs
            members[id] = m
            return true
        }
        if changed { persist() }
    }

    /// Writes the table as it is now. The table is read under `persistLock`,
    /// so the last write holds the newest table.
    private func persist() {
        persistLock.withLock {
            let snapshot = all
            do {
                try DurableFile.write(Array(try JSONEncoder().encode(snapshot)), to: path)
            } catch {
                logger.error("failed to persist cluster members", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
    }
}
