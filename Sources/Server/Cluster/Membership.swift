import Foundation
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
/// derived as etcd does), persisted next to the WAL so a restarted member
/// finds its peers without the initial-cluster flags. Names and client URLs
/// of the other members arrive in their peer hellos (`MemberAttributes`).
/// Changes arrive as applied Raft conf changes (`confChangeApplied`).
final class Membership: @unchecked Sendable {
    private let lock = NSLock()
    private var members: [UInt64: ClusterMember]  // guarded by `lock`
    private let path: String
    private let logger: Logger

    init(members: [ClusterMember], path: String, logger: Logger) {
        self.members = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.path = path
        self.logger = logger
    }

    /// Loads the persisted members if the data dir has them, otherwise
    /// starts from `initialMembers` (see `MemberStart`); the local member's
    /// attributes always come from its own flags.
    static func open(path: String, initialMembers: [ClusterMember], options: ServerOptions, localID: UInt64,
                     logger: Logger) -> Membership {
        var members: [ClusterMember]
        if let data = FileManager.default.contents(atPath: path),
           let stored = try? JSONDecoder().decode([ClusterMember].self, from: data), !stored.isEmpty {
            members = stored
        } else {
            members = initialMembers
        }
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

    /// Removes a member (applied MemberRemove); persists.
    func remove(_ id: UInt64) {
        lock.withLock { _ = members.removeValue(forKey: id) }
        persist()
    }

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

    private func persist() {
        let snapshot = all
        do {
            let data = try JSONEncoder().encode(snapshot)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.error("failed to persist cluster members", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
