import NIOCore

/// Peer frames of the Cluster API (kinds 10–13 of `PeerFrame`):
///
/// - A member started with `--initial-cluster-state existing` does not know
///   its own ID (MemberAdd mixes the time into it, as etcd does). It opens a
///   connection to a peer and sends `membersRequest` instead of a hello; the
///   peer answers `membersAnswer` on the same connection and closes it
///   (etcd's `GET /members` on the peer port).
/// - MemberPromote sent to a follower is forwarded to the leader, which alone
///   knows whether the learner is in sync: `promoteRequest` travels on the
///   follower's connection to the leader, `promoteAnswer` on the leader's
///   connection to the follower (as lease forwarding does).
enum ClusterPeerFrame: Equatable {
    case membersRequest
    /// The cluster ID and the JSON `[ClusterMember]` list.
    case membersAnswer(clusterID: UInt64, membersJSON: [UInt8])
    case promoteRequest(requestID: UInt64, memberID: UInt64)
    /// `code` and `message` of the `ServerError`; an empty message is success.
    case promoteAnswer(requestID: UInt64, code: UInt8, message: String)

    enum Kind: UInt8, CaseIterable {
        case membersRequest = 10, membersAnswer = 11, promoteRequest = 12, promoteAnswer = 13
    }

    static func handles(kind: UInt8) -> Bool { Kind(rawValue: kind) != nil }

    /// Writes kind + payload (the caller writes the length prefix).
    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .membersRequest:
            buffer.writeInteger(Kind.membersRequest.rawValue)
        case .membersAnswer(let clusterID, let json):
            buffer.writeInteger(Kind.membersAnswer.rawValue)
            buffer.writeInteger(clusterID)
            buffer.writeBytes(json)
        case .promoteRequest(let requestID, let memberID):
            buffer.writeInteger(Kind.promoteRequest.rawValue)
            buffer.writeInteger(requestID)
            buffer.writeInteger(memberID)
        case .promoteAnswer(let requestID, let code, let message):
            buffer.writeInteger(Kind.promoteAnswer.rawValue)
            buffer.writeInteger(requestID)
            buffer.writeInteger(code)
            buffer.writeString(message)
        }
    }

    /// Decodes the payload of a frame of `kind` (already read).
    init(kind raw: UInt8, body: inout ByteBuffer) throws {
        guard let kind = Kind(rawValue: raw) else { throw PeerProtocolError("not a cluster frame kind \(raw)") }
        switch kind {
        case .membersRequest:
            self = .membersRequest
        case .membersAnswer:
            guard let clusterID: UInt64 = body.readInteger() else { throw PeerProtocolError("short members answer") }
            self = .membersAnswer(clusterID: clusterID, membersJSON: body.readBytes(length: body.readableBytes) ?? [])
        case .promoteRequest:
            guard let requestID: UInt64 = body.readInteger(), let memberID: UInt64 = body.readInteger() else {
                throw PeerProtocolError("short promote request")
            }
            self = .promoteRequest(requestID: requestID, memberID: memberID)
        case .promoteAnswer:
            guard let requestID: UInt64 = body.readInteger(), let code: UInt8 = body.readInteger() else {
                throw PeerProtocolError("short promote answer")
            }
            self = .promoteAnswer(requestID: requestID, code: code, message: body.readString(length: body.readableBytes) ?? "")
        }
    }
}
