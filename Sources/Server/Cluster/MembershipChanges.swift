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
        (0..<8).map { UInt8(truncatingIfNeeded: requestID >> (56 - 8 * UInt64($0))) } + member.serializedBytes()
    }

    init(requestID: UInt64, member: Swiftetcd.ClusterMember) {
        self.requestID = requestID
        self.member = member
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        requestID = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        guard let m = try? Array(bytes.dropFirst(8)).withUnsafeBytes({ try Swiftetcd.ClusterMember(serializedBytes: $0) })
        else { return nil }
        member = m
    }
}

extension ServerError {
    static let memberNotFound = ServerError(code: .notFound, message: "etcdserver: member not found")
}

extension EtcdServer {
    /// MemberRemove: proposes the removal through Raft and returns once it is
    /// applied here. The removed member stops itself when it applies it.
    func removeMember(_ id: UInt64) async throws {
        guard let member = membership.member(id) else { throw ServerError.memberNotFound }
        var meta = Swiftetcd.ClusterMember()
        meta.id = member.id
        meta.name = member.name
        meta.peerURLs = member.peerURLs
        meta.clientURLs = member.clientURLs
        let requestID = nextRequestID()
        let cc = ConfChange(type: .removeNode, nodeID: id,
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
            break
        }
        if let context { confWaits.trigger(id: context.requestID, .success(0)) }
    }
}
