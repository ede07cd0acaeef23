import Foundation
import GRPCWire

/// The Cluster API's use of the peer transport: answering a joining
/// member's `membersRequest`, forwarding MemberPromote to the leader, and
/// the connection ages the strict reconfiguration check reads.
extension PeerNetwork {
    /// This member's view of the cluster, for a joining member.
    func membersAnswer() -> ClusterPeerFrame {
        let json = (try? JSONEncoder().encode(membership.all)).map { Array($0) } ?? Array("[]".utf8)
        return .membersAnswer(clusterID: clusterID, membersJSON: json)
    }

    /// Since when the connection to `id` is up; nil if it is down or unknown.
    func activeSince(_ id: UInt64) -> UInt64? { clients[id]?.activeSince }

    /// Forwards MemberPromote to `leader` and returns when it answers;
    /// throws the leader's error, or `timeout`.
    func forwardPromote(_ memberID: UInt64, to leader: UInt64, timeoutSeconds: Double) async throws {
        guard let client = clients[leader] else { throw ServerError.noLeader }
        let requestID = renewIDs.next()
        let answer = try await promoteWaits.wait(id: requestID, deadline: .after(seconds: timeoutSeconds)) {
            client.send(frames: [.cluster(.promoteRequest(requestID: requestID, memberID: memberID))])
        }
        if let answer { throw answer }
    }

    func clusterControl(from remoteID: UInt64, _ frame: ClusterPeerFrame) {
        switch frame {
        case .promoteRequest(let requestID, let memberID):
            let run = onPromoteRequest
            Task {
                let error = await run(memberID)
                let code = UInt8(clamping: error?.code.rawValue ?? 0)
                clients[remoteID]?.send(frames: [.cluster(.promoteAnswer(requestID: requestID, code: code,
                                                                          message: error?.message ?? ""))])
            }
        case .promoteAnswer(let requestID, let code, let message):
            let error = message.isEmpty
                ? nil : ServerError(code: GRPCStatus.Code(rawValue: Int(code)) ?? .unknown, message: message)
            promoteWaits.trigger(id: requestID, .success(error))
        case .membersRequest, .membersAnswer:
            break  // only valid as the first frame of a discovery connection
        }
    }
}
