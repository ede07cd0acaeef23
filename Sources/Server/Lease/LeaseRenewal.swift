import Foundation
import MVCC

/// Keep-alives on any member: the leader's lessor renews; a follower
/// forwards the renewal to the leader over the peer transport (etcd's
/// followers forward keep-alives to the leader over HTTP).
extension EtcdServer {
    /// The lease's TTL in seconds after renewing it, 0 if it is unknown or
    /// expired (etcd's answer).
    func renewLease(_ id: Int64) async throws -> Int64 {
        let status = loop.status
        if status.isLeader || peers == nil { return try renewLeaseLocally(id) }
        guard status.leader != 0, let peers else { throw ServerError.noLeader }
        return try await peers.renewLease(id, at: status.leader, timeoutSeconds: requestTimeoutSeconds)
    }

    /// On the leader, for a follower's forwarded keep-alive: -1 if this
    /// member is not (or no longer) the leader.
    func renewLeaseForFollower(_ id: Int64) -> Int64 {
        (try? renewLeaseLocally(id)) ?? -1
    }

    private func renewLeaseLocally(_ id: Int64) throws -> Int64 {
        try requireLeader()
        switch lessor.renew(id) {
        case .success(let renewal):
            if renewal.needsCheckpointReset { proposeCheckpoints([StoredLease(id: id, ttlSeconds: renewal.ttlSeconds)]) }
            return renewal.ttlSeconds
        case .failure:
            return 0
        }
    }
}
