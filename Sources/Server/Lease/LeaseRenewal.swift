import Foundation
import MVCC

/// Keep-alives and TimeToLive on any member: the leader's lessor answers; a
/// follower forwards to the leader over the peer transport (etcd's
/// followers forward them to the leader over HTTP).
extension EtcdServer {
    /// The lease's TTL in seconds after renewing it, 0 if it is unknown or
    /// expired (etcd's answer).
    func renewLease(_ id: Int64) async throws -> Int64 {
        guard let answer = try await forwardToLeader(.renew, id) else { return try renewLeaseLocally(id) }
        return answer.0
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
        guard let (remaining, granted) = try await forwardToLeader(.timeToLive, id) else {
            try requireLeader()
            return lessor.timeToLive(id)
        }
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

    /// `op` answered by the leader, nil when this member answers itself.
    /// As etcd's followers do, it outlasts a leader change within the request
    /// timeout: while no leader is known it waits for one, and an attempt
    /// that fails (a killed leader answers nothing, a deposed one "not
    /// leader") is retried 50 ms later at whoever leads then. One attempt
    /// waits at most the election timeout (at least 1 s) so a dead leader
    /// costs an attempt or two, not the whole timeout: a session's
    /// keep-alive (TTL a few seconds) then gets its answer from the new
    /// leader instead of an error or a late reply that lets the client drop
    /// the lease (`etcdctl elect`/`lock` lost their sessions when the leader
    /// was killed).
    private func forwardToLeader(_ op: LeaseOp, _ id: Int64) async throws -> (Int64, Int64)? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int64(requestTimeoutSeconds * 1000)))
        let attempt = max(1, Double(options.electionTimeoutMs) / 1000)
        var lastError: Error = ServerError.noLeader
        while true {
            let left = clock.now.duration(to: deadline)
            guard left > .zero else { throw lastError }
            let leftSeconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            do {
                guard let leader = try forwardingTarget() else { return nil }
                return try await peers!.forwardLease(op, id, to: leader, timeoutSeconds: min(leftSeconds, attempt))
            } catch let error as ServerError {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(50))
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
