import Foundation
import Proto
import Raft
import Support

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
    /// Unknown, not FailedPrecondition: etcd 3.4/3.5 map this error to a
    /// client-side error value, which gRPC sends as Unknown.
    static let notEnoughStarted = ServerError(
        code: .unknown, message: "etcdserver: re-configuration failed due to not enough started members")
    static let unhealthy = ServerError(code: .unavailable, message: "etcdserver: unhealthy cluster")
    static let memberNotLearner = ServerError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member")
    static let learnerNotReady = ServerError(
        code: .failedPrecondition, message: "etcdserver: can only promote a learner member which is in sync with leader")
    static let notLeader = ServerError(code: .failedPrecondition, message: "etcdserver: not leader")
}

/// etcd's rule: a learner is promotable once its match index is at least
/// 90% of the leader's. (How many learners: `--experimental-max-learners`.)
enum ReconfigLimits {
    static let learnerReadyFraction = 0.9
}

extension EtcdServer {
    /// MemberRemove: proposes the removal through Raft and returns once it is
    /// applied here. The removed member stops itself when it applies it.
    func removeMember(_ id: UInt64) async throws {
        guard let member = membership.member(id) else { throw ServerError.memberNotFound }
        if options.strictReconfigCheck, let refusal = reconfigCheck().mayRemove(id, isLearner: member.isLearner) {
            logger.warning("rejecting member remove request", metadata: [
                "requested-member-remove-id": "\(String(id, radix: 16))", "error": "\(refusal)"])
            throw refusal
        }
        try await proposeMemberChange(.removeNode, member)
    }

    /// MemberAdd: the new member's ID hashes its peer URLs and the time, as
    /// etcd's does; it learns the ID from a peer when it starts
    /// (`MemberStart`). Checks as etcd: unique peer URLs, at most
    /// `--experimental-max-learners` learners, and with `--strict-reconfig-check` a quorum
    /// of started, connected voters (`ReconfigCheck`).
    func addMember(peerURLs: [String], learner: Bool) async throws -> ClusterMember {
        let peerURLs = try PeerURLs.validated(peerURLs)
        // etcd's order: the strict check before proposing, the others when applying.
        if options.strictReconfigCheck, let refusal = reconfigCheck().mayAdd(learner: learner) {
            logger.warning("rejecting member add request", metadata: ["peer-urls": "\(peerURLs)", "error": "\(refusal)"])
            throw refusal
        }
        let current = membership.all
        let taken = Set(current.flatMap(\.peerURLs))
        if peerURLs.contains(where: taken.contains) { throw ServerError.peerURLExists }
        let id = MemberIdentity.addedMemberID(peerURLs: peerURLs, unixSeconds: Int64(Date().timeIntervalSince1970))
        if current.contains(where: { $0.id == id }) { throw ServerError.memberExists }
        if learner, current.filter(\.isLearner).count >= options.maxLearners { throw ServerError.tooManyLearners }
        let member = ClusterMember(id: id, name: "", peerURLs: peerURLs, clientURLs: [], learner: learner)
        try await proposeMemberChange(learner ? .addLearnerNode : .addNode, member)
        return member
    }

    /// MemberUpdate (peer URLs): a conf change of the member's current kind,
    /// a no-op for Raft, carrying the new URLs to every member.
    func updateMember(_ id: UInt64, peerURLs: [String]) async throws {
        // etcd 3.5.1 answers an unknown ID first; it does not check the URLs
        // of an update at all, we check them as MemberAdd's (issue 18).
        guard var member = membership.member(id) else { throw ServerError.memberNotFound }
        let peerURLs = try PeerURLs.validated(peerURLs)
        let taken = Set(membership.all.filter { $0.id != id }.flatMap(\.peerURLs))
        if peerURLs.contains(where: taken.contains) { throw ServerError.peerURLExists }
        member.peerURLs = peerURLs
        try await proposeMemberChange(member.isLearner ? .addLearnerNode : .addNode, member)
    }

    /// MemberPromote on any member: only the leader knows whether the
    /// learner is in sync, so a follower forwards it to the leader over the
    /// peer transport (etcd forwards over HTTP), retrying across leader
    /// changes until the request timeout.
    func promoteMember(_ id: UInt64) async throws {
        let deadline = MonotonicClock.deadline(afterSeconds: requestTimeoutSeconds)
        while true {
            do {
                try await promoteLocally(id)
                return
            } catch let error as ServerError where error == .notLeader {}
            guard let peers else { throw ServerError.notLeader }
            let leader = loop.status.leader
            let remaining = (Double(deadline) - Double(MonotonicClock.nanoseconds())) / 1e9
            if remaining <= 0 { throw ServerError.timeout }
            if leader != 0 && leader != memberID {
                do {
                    try await peers.forwardPromote(id, to: leader, timeoutSeconds: remaining)
                    await waitUntilPromotedHere(id, deadline: deadline)
                    return
                } catch let error as ServerError where error == .notLeader || error == .noLeader {}
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// On the leader, for a follower's forwarded MemberPromote: nil on success.
    func promoteFromFollower(_ id: UInt64) async -> ServerError? {
        do {
            try await promoteLocally(id)
            return nil
        } catch let error as ServerError {
            return error
        } catch {
            return ServerError(code: .unknown, message: "\(error)")
        }
    }

    /// The leader's MemberPromote (etcd's `promoteMember`).
    private func promoteLocally(_ id: UInt64) async throws {
        let status = loop.status
        guard status.isLeader else { throw ServerError.notLeader }
        guard var member = membership.member(id) else { throw ServerError.memberNotFound }
        guard member.isLearner else { throw ServerError.memberNotLearner }
        let leaderMatch = Double(status.matchIndex[memberID] ?? status.commitIndex)
        guard let match = status.matchIndex[id], Double(match) >= leaderMatch * ReconfigLimits.learnerReadyFraction else {
            throw ServerError.learnerNotReady
        }
        if options.strictReconfigCheck, let refusal = reconfigCheck().mayPromote() { throw refusal }
        member.learner = false
        try await proposeMemberChange(.addNode, member)
    }

    /// The forwarded promote is applied on the leader first: answer with this
    /// member's table once it shows the change too (bounded by `deadline`).
    private func waitUntilPromotedHere(_ id: UInt64, deadline: UInt64) async {
        while membership.member(id)?.isLearner == true && MonotonicClock.nanoseconds() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    /// The voters as the strict reconfiguration check sees them now.
    private func reconfigCheck() -> ReconfigCheck {
        let voters = membership.all.filter { !$0.isLearner }.map { m in
            ReconfigCheck.Voter(id: m.id, started: m.id == memberID || !m.name.isEmpty,
                                activeSince: m.id == memberID ? 0 : peers?.activeSince(m.id))
        }
        return ReconfigCheck(localID: memberID, voters: voters, now: MonotonicClock.nanoseconds())
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
        _ = try await confWaits.wait(id: requestID, deadline: .after(seconds: requestTimeoutSeconds)) {
            loop.proposeConfChange(cc) { [confWaits] error in confWaits.trigger(id: requestID, .failure(error)) }
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
                stopAsRemoved()
            } else {
                peers?.dropPeer(cc.nodeID)
                logger.info("removed member", metadata: [
                    "cluster-id": .id(clusterID), "local-member-id": .id(memberID), "removed-remote-peer-id": .id(cc.nodeID)])
            }
        case .addNode, .addLearnerNode:
            // Bootstrap entries carry no context: those members came from the flags.
            guard let meta = context?.member else {
                logAddedMember(cc, peerURLs: membership.member(cc.nodeID)?.peerURLs ?? [])
                break
            }
            let before = membership.member(cc.nodeID)
            var member = before
                ?? ClusterMember(id: cc.nodeID, name: meta.name, peerURLs: meta.peerURLs, clientURLs: meta.clientURLs)
            let urlsChanged = member.peerURLs != meta.peerURLs
            member.peerURLs = meta.peerURLs
            member.learner = cc.type == .addLearnerNode
            membership.put(member)
            if cc.nodeID != memberID, let url = member.peerURLs.first {
                if urlsChanged { peers?.replacePeer(cc.nodeID, url: url) } else { peers?.addPeer(cc.nodeID, url: url) }
            }
            // MemberUpdate and MemberPromote travel as adds of a member already there.
            if before?.isLearner == true && !member.isLearner {
                logger.info("promote member", metadata: ["cluster-id": .id(clusterID), "local-member-id": .id(memberID)])
            } else if before != nil {
                logger.info("updated member", metadata: [
                    "cluster-id": .id(clusterID), "local-member-id": .id(memberID), "updated-remote-peer-id": .id(cc.nodeID),
                    "updated-remote-peer-urls": .strings(member.peerURLs)])
            } else {
                logAddedMember(cc, peerURLs: member.peerURLs)
            }
        }
        if let context { confWaits.trigger(id: context.requestID, .success(0)) }
    }

    /// This member is out of the cluster: its own removal was applied, or a
    /// peer refused its hello as removed (it came back with its old data
    /// dir). Logs etcd's warnings once; the executable then stops the member
    /// (store synced and closed) and exits 0, as etcd does.
    func stopAsRemoved() {
        guard removed.fire() else { return }
        logger.warning("the member has been permanently removed from the cluster; stopping",
                       metadata: ["local-member-id": .id(memberID)])
        logger.warning("data-dir used by this member must be removed", metadata: ["data-dir": .string(options.dataDir)])
        removedFromCluster()
    }

    /// etcd's "added member".
    private func logAddedMember(_ cc: ConfChange, peerURLs: [String]) {
        logger.info("added member", metadata: [
            "cluster-id": .id(clusterID), "local-member-id": .id(memberID), "added-peer-id": .id(cc.nodeID),
            "added-peer-peer-urls": .strings(peerURLs), "added-peer-is-learner": .bool(cc.type == .addLearnerNode),
        ])
    }
}
