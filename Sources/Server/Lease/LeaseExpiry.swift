import Foundation
import Proto

extension EtcdServer {
    /// Every half second: follow leadership (promote or demote the lessor)
    /// and, as leader, propose a revoke for each expired lease.
    func startLeaseTimer() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "lease-expiry"))
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [weak self] in self?.leaseTick() }
        setLeaseTimer(timer)
        timer.resume()
    }

    private func leaseTick() {
        guard loop.status.isLeader else {
            if lessor.isPrimary { lessor.demote() }
            return
        }
        if !lessor.isPrimary {
            // etcd's Promote: extend by the election timeout on top of each TTL.
            lessor.promote(extendSeconds: Double(options.electionTimeoutMs) / 1000)
        }
        for id in lessor.expired(limit: 500) {
            Task {
                var proposal = Swiftetcd.InternalRaftRequest()
                var revoke = Etcdserverpb.LeaseRevokeRequest()
                revoke.id = id
                proposal.leaseRevoke = revoke
                do { _ = try await propose(proposal) } catch {
                    logger.warning("failed to revoke expired lease", metadata: ["lease-id": "\(id)", "error": "\(error)"])
                }
            }
        }
    }
}
