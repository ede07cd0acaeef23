import Foundation
import MVCC

/// Keep-alives and TimeToLive on any member: the leader's lessor answers; a
/// follower forwards to the leader over the peer transport (etcd's
/// followers forward them to the leader over HTTP).
extension EtcdServer {
    /// The lease's TTL in seconds after renewing it, 0 if it is unknown or
    /// expired (etcd's answer).
    func renewLease(_ id: Int64) async throws -> Int64 {
        guard let leader = try forwardingTarget() else { return try renewLeaseLocally(id) }
        return try await peers!.forwardLease(.renew, id, to: leader, timeoutSeconds: requestTimeoutSeconds).0
    }

    /// `renewLease` when nothing has to wait: this member answers (leader,
    /// or single member) and the renewal did not throw. nil hands the
    /// request to `renewLease` (which forwards it, or throws the error).
    func renewLeaseWithoutWaiting(_ id: Int64) -> Int64? {
        // Not `try?`: it would flatten "answer here" (nil) into "failed".
        do {
            guard try forwardingTarget() == nil else { return nil }
            return try renewLeaseLocally(id)
        } catch {
            return nil
        }
    }

    /// Remaining and granted TTL from the leader; attached keys from this
    /// member's applied state. nil for an unknown lease.
    func leaseTimeToLive(_ id: Int64) async throws -> Lessor.TimeToLive? {
        guard let leader = try forwardingTarget() else {
            try requireLeader()
            return lessor.timeToLive(id)
        }
        let (remaining, granted) = try await peers!.forwardLease(.timeToLive, id, to: leader,
                                                                 timeoutSeconds: requestTimeoutSeconds)
        guard remaining >= 0 else { return nil }
        return Lessor.TimeToLive(grantedTTLSeconds: granted, remainingSeconds: remaining,
                                 keys: lessor.timeToLive(id)?.keys ?? [])
    }

    /// On the leader, for a follower's forwarded operation.
    func leaseRequestFromFollower(_ id: Int64, _ op: LeaseOp) -> (Int64, Int64) {
        switch op {
        case .renew:
            guard let ttl = try? renewLeaseLocally(id) else { return (LeaseOp.notLeader, 0) }
            return (ttl, 0)
        case .timeToLive:
            guard (try? requireLeader()) != nil else { return (LeaseOp.notLeader, 0) }
            guard let ttl = lessor.timeToLive(id) else { return (-1, 0) }
            return (ttl.remainingSeconds, ttl.grantedTTLSeconds)
        }
    }

    /// nil to answer locally (leader, or single member); the leader to
    /// forward to otherwise.
    private func forwardingTarget() throws -> UInt64? {
        let status = loop.status
        if status.isLeader || peers == nil { return nil }
        guard status.leader != 0 else { throw ServerError.noLeader }
        return status.leader
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
