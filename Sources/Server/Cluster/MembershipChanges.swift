import Foundation
import Proto
import Raft

/// The context of a membership ConfChange: the proposer's request ID (so the
/// proposing member can answer its client once the change is applied) and
/// the member's metadata. Layout: request ID as 8 bytes big-endian, then a
/// serialized `Swiftetcd.ClusterMember`.
struct ConfChangeContext {
    var requestID: UInt64
    var member: Swiftetcd.ClusterMember

    func encoded() -> [UInt8] {
        requestID.bigEndianBytes + member.serializedBytes()
    }

    init(requestID: UInt64, member: Swiftetcd.ClusterMember) {
        self.requestID = requestID
        self.member = member
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        requestID = UInt64(bigEndianBytes: bytes)
        guard let m = try? Array(bytes.dropFirst(8)).withUnsafeBytes({ try Swiftetcd.ClusterMember(serializedBytes: $0) })
        else { return nil }
        member = m
    }
}

extension ServerError {
    static let memberNotFound = ServerError(code: .notFound, message: "etcdserver: member not found")
    static let memberExists = ServerError(code: .failedPrecondition, message: "etcdserver: member ID already exist")
    static let peerURLExists = ServerError(code: .failedPrecondition, message: "etcdserver: Peer URLs already exists")
    static let tooManyLearners = ServerError(code: .failedPrecondition, message: "etcdserver: too many learner members in cluster")
    static let notEnoughStarted = ServerError(
        code: .failedPrecondition, message: "etcdserver: re-configuration failed due to not enough started members")
    static let memberNotLearner = ServerError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member")
    static let learnerNotReady = ServerError(
        code: .failedPrecondition, message: "etcdserver: can only promote a learner member which is in sync with leader")
    static let notLeader = ServerError(code: .failedPrecondition, message: "etcdserver: not leader")
}

/// etcd's defaults: one learner at most; a learner is promotable once its
/// match index is at least 90% of the leader's.
enum ReconfigLimits {
    static let maxLearners = 1
    static let learnerReadyFraction = 0.9
}

extension EtcdServer {
    /// MemberRemove: proposes the removal through Raft and returns once it is
    /// applied here. The removed member stops itself when it applies it.
    func removeMember(_ id: UInt64) async throws {
        guard let member = membership.member(id) else { throw ServerError.memberNotFound }
        try await proposeMemberChange(.removeNode, member)
    }

    /// MemberAdd: the new member's ID derives from its peer URLs and the
    /// cluster token as at bootstrap (etcd also mixes in the time), so a
    /// member started with those URLs finds its own ID. Checks as etcd:
    /// unique peer URLs, at most `maxLearners` learners, and (strict reconfig
    /// check, always on here) enough started members for the new quorum.
    func addMember(peerURLs: [String], learner: Bool) async throws -> ClusterMember {
        let current = membership.all
        let taken = Set(current.flatMap(\.peerURLs))
        if peerURLs.contains(where: taken.contains) { throw ServerError.peerURLExists }
        let id = MemberIdentity.memberID(peerURLs: peerURLs, clusterToken: options.initialClusterToken)
        if current.contains(where: { $0.id == id }) { throw ServerError.memberExists }
        if learner {
            if current.filter(\.isLearner).count >= ReconfigLimits.maxLearners { throw ServerError.tooManyLearners }
        } else {
            // Started = has published its name (etcd's IsStarted); voters only.
            let voters = current.filter { !$0.isLearner }
            let started = voters.filter { !$0.name.isEmpty }.count
            if started < (voters.count + 1) / 2 + 1 { throw ServerError.notEnoughStarted }
        }
        let member = ClusterMember(id: id, name: "", peerURLs: peerURLs, clientURLs: [], learner: learner)
        try await proposeMemberChange(learner ? .addLearnerNode : .addNode, member)
        return member
    }

    /// MemberUpdate (peer URLs): a conf change of the member's current kind,
    /// a no-op for Raft, carrying the new URLs to every member.
    func updateMember(_ id: UInt64, peerURLs: [String]) async throws {
        guard var member = membership.member(id) else { throw ServerError.memberNotFound }
        let taken = Set(membership.all.filter { $0.id != id }.flatMap(\.peerURLs))
        if peerURLs.contains(where: taken.contains) { throw ServerError.peerURLExists }
        member.peerURLs = peerURLs
        try await proposeMemberChange(member.isLearner ? .addLearnerNode : .addNode, member)
    }

    /// MemberPromote, answered by the leader (it knows the learner's progress).
    func promoteMember(_ id: UInt64) async throws {
        let status = loop.status
        guard status.isLeader else { throw ServerError.notLeader }
        guard var member = membership.member(id) else { throw ServerError.memberNotFound }
        guard member.isLearner else { throw ServerError.memberNotLearner }
        let leaderMatch = Double(status.matchIndex[memberID] ?? status.commitIndex)
        guard let match = status.matchIndex[id], Double(match) >= leaderMatch * ReconfigLimits.learnerReadyFraction else {
            throw ServerError.learnerNotReady
        }
        member.learner = false
        try await proposeMemberChange(.addNode, member)
    }

    /// Proposes one conf change carrying `member` and waits until it is applied here.
    private func proposeMemberChange(_ type: ConfChangeType, _ member: ClusterMember) async throws {
        var meta = Swiftetcd.ClusterMember()
        meta.id = member.id
        meta.name = member.name
        meta.peerURLs = member.peerURLs
        meta.clientURLs = member.clientURLs
        meta.isLearner = member.isLearner
        let requestID = nextRequestID()
        let cc = ConfChange(type: type, nodeID: member.id,
                            context: ConfChangeContext(requestID: requestID, member: meta).encoded())
        let timeout = requestTimeoutSeconds
        _ = try await confWaits.wait(id: requestID) {
            loop.proposeConfChange(cc) { [confWaits] error in confWaits.trigger(id: requestID, .failure(error)) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [confWaits] in
                confWaits.trigger(id: requestID, .failure(ServerError.timeout))
            }
        }
    }

    /// On the Raft loop thread, for every applied conf change: updates the
    /// member table and the peer connections, wakes the proposer.
    func confChangeApplied(_ cc: ConfChange) {
        let context = ConfChangeContext(decoding: cc.context)
        switch cc.type {
        case .removeNode:
            membership.remove(cc.nodeID)
            if cc.nodeID == memberID {
                logger.warning("the member has been permanently removed from the cluster; stopping",
                               metadata: ["local-member-id": "\(String(memberID, radix: 16))"])
                // Give the log line and in-flight peer messages a moment, then exit as etcd does.
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { exit(0) }
            } else {
                peers?.dropPeer(cc.nodeID)
                logger.info("removed member", metadata: ["removed-member-id": "\(String(cc.nodeID, radix: 16))"])
            }
        case .addNode, .addLearnerNode:
            // Bootstrap entries carry no context: those members came from the flags.
            guard let meta = context?.member else { break }
            var member = membership.member(cc.nodeID)
                ?? ClusterMember(id: cc.nodeID, name: meta.name, peerURLs: meta.peerURLs, clientURLs: meta.clientURLs)
            let urlsChanged = member.peerURLs != meta.peerURLs
            member.peerURLs = meta.peerURLs
            member.learner = cc.type == .addLearnerNode
            membership.put(member)
            if cc.nodeID != memberID, let url = member.peerURLs.first {
                if urlsChanged { peers?.replacePeer(cc.nodeID, url: url) } else { peers?.addPeer(cc.nodeID, url: url) }
            }
            logger.info(cc.type == .addNode ? "added voting member" : "added learner member",
                        metadata: ["member-id": "\(String(cc.nodeID, radix: 16))", "peer-urls": "\(member.peerURLs)"])
        }
        if let context { confWaits.trigger(id: context.requestID, .success(0)) }
    }
}
