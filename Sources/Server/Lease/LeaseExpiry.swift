import Auth
import Foundation
import MVCC
import Proto
import Support

extension EtcdServer {
    static let leaseTickSeconds = 0.5

    /// Every half second: follow leadership (promote or demote the lessor),
    /// and as leader propose a revoke for each expired lease and, every
    /// checkpoint interval, the remaining TTLs.
    /// A task (cancelled by `stop`) that sleeps between rounds.
    func startLeaseTimer() {
        let task = Task.detached { [weak self] in
            // Monotonic: a wall clock stepped back would stop checkpoints as long.
            var lastCheckpointNanos = MonotonicClock.nanoseconds()
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(Self.leaseTickSeconds * 1e9))
                guard let self, !Task.isCancelled else { return }
                leaseTick()
                let intervalNanos = UInt64(max(options.leaseCheckpointIntervalMs, 0)) * 1_000_000
                let now = MonotonicClock.nanoseconds()
                if options.leaseCheckpointEnabled && now - lastCheckpointNanos >= intervalNanos {
                    lastCheckpointNanos = now
                    // etcd's maxLeaseCheckpointBatchSize per proposal.
                    let intervalSeconds = Int64(intervalNanos / 1_000_000_000)
                    for batch in lessor.checkpointBatches(aboveSeconds: intervalSeconds, batchSize: 1000) {
                        proposeCheckpoints(batch)
                    }
                }
            }
        }
        setLeaseTimer(task)
    }

    private func leaseTick() {
        let status = loop.status
        guard status.isLeader else {
            if lessor.isPrimary { lessor.demote() }
            return
        }
        // etcd's Promote: extend by the election timeout on top of each TTL.
        lessor.promoteIfNeeded(extendSeconds: Double(options.electionTimeoutMs) / 1000)
        for id in lessor.expired(limit: 500) {
            var revoke = Etcdserverpb.LeaseRevokeRequest()
            revoke.id = id
            var proposal = Swiftetcd.InternalRaftRequest()
            proposal.leaseRevoke = revoke
            proposeInBackground(proposal, asLeaderOf: status.term, what: "revoke expired lease \(id)")
        }
    }

    /// Proposes remaining TTLs (none: nothing to do), as the leader of the
    /// current term only: a deposed leader's TTLs are stale.
    func proposeCheckpoints(_ leases: [StoredLease]) {
        let status = loop.status
        guard options.leaseCheckpointEnabled, !leases.isEmpty, status.isLeader else { return }
        var request = Etcdserverpb.LeaseCheckpointRequest()
        request.checkpoints = leases.map {
            var c = Etcdserverpb.LeaseCheckpoint()
            c.id = $0.id
            c.remainingTTL = $0.remainingTTLSeconds
            return c
        }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.leaseCheckpoint = request
        proposeInBackground(proposal, asLeaderOf: status.term, what: "lease checkpoint")
    }

    /// The leader acts for the cluster, as root (etcd's WithRoot): the auth
    /// stage checks a revoke's keys against the proposer's rights. Only as
    /// the leader of `term`, the one whose lessor decided it
    /// (`RaftLoop.proposeAsLeader`): never forwarded to a later leader.
    private func proposeInBackground(_ proposal: Swiftetcd.InternalRaftRequest, asLeaderOf term: UInt64, what: String) {
        let identity = auth.snapshot.enabled ? RequestIdentity(username: AuthState.rootUser, authRevision: auth.snapshot.revision) : nil
        Task {
            do { _ = try await propose(proposal, as: identity, asLeaderOf: term) } catch {
                logger.warning("proposal failed", metadata: ["what": "\(what)", "error": "\(error)"])
            }
        }
    }
}
