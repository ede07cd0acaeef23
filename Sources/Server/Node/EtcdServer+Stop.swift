import Foundation
import Logging
import NIOCore

/// Stopping a member (SIGTERM/SIGINT, or its removal), in etcd's order and
/// bounded however many clients are connected:
/// 1. a leader of a multi-voter cluster hands leadership to its most
///    up-to-date connected follower (at most the request timeout), so the
///    cluster does not wait an election timeout for a new leader;
/// 2. open streams (watch, keep-alive, observe, snapshot) end at once with
///    "etcdserver: server stopped" (Unavailable: clients retry elsewhere);
/// 3. the client listeners stop accepting and drain together: in-flight
///    unary calls finish while Raft still runs, and whatever is open when
///    the request timeout has passed is closed (one deadline for all);
/// 4. Raft, the peers and the lease timer stop, waiters fail, the store is
///    synced and closed.
extension EtcdServer {
    public func stop() async {
        logger.info("closing etcd server", metadata: identityFields)
        await transferLeadershipBeforeStop()
        await shutDown(grace: .nanoseconds(Int64(requestTimeoutSeconds * 1e9)))
        logger.info("closed etcd server", metadata: identityFields)
    }

    /// Steps 2-4 of `stop`; also what a failed `start` had started (every
    /// step copes with a part that never started).
    func shutDown(grace: TimeAmount) async {
        stopping.fire()
        autoCompactor.stop()
        corruptionMonitor.stop()
        peers?.stopPinging()
        let servers = grpcServers
        await withTaskGroup(of: Void.self) { group in
            for server in servers { group.addTask { try? await server.shutdown(gracePeriod: grace) } }
        }
        leaseTimer?.cancel()
        watchHub.stop()
        loop.stop()
        if let peers, let listener = options.listenPeer.first {
            let address: Logger.MetadataValue = .string("\(listener.host):\(listener.port)")
            logger.info("stopping serving peer traffic", metadata: ["address": address])
            await peers.stop()
            logger.info("stopped serving peer traffic", metadata: ["address": address])
        }
        applyWaits.failAll(ServerError.stopped)
        confWaits.failAll(ServerError.stopped)
        do { try store.sync() } catch {
            logger.error("failed to sync the backend before closing", metadata: ["error": "\(error)"])
        }
        store.close()
        try? await group.shutdownGracefully()
    }

    /// etcd's `TransferLeadership` before stopping: only a leader, only with
    /// another voter to take over; the transferee is the connected voter
    /// whose log matches furthest (ties: lowest ID).
    func transferLeadershipBeforeStop() async {
        let status = loop.status
        guard status.isLeader else {
            logger.info("skipped leadership transfer; local server is not leader", metadata: [
                "local-member-id": .id(memberID), "current-leader-member-id": .id(status.leader)])
            return
        }
        let others = membership.all.filter { !$0.isLearner && $0.id != memberID }.map(\.id)
        if others.isEmpty {
            logger.info("skipped leadership transfer for single voting member cluster", metadata: [
                "local-member-id": .id(memberID), "current-leader-member-id": .id(status.leader)])
            return
        }
        guard let transferee = Self.transferee(among: others, matchIndex: status.matchIndex,
                                                connected: { self.peers?.activeSince($0) != nil }) else {
            logger.warning("failed to transfer leadership; no connected voting member", metadata: [
                "local-member-id": .id(memberID)])
            return
        }
        do { try await moveLeader(to: transferee, deadline: nil) } catch {
            logger.warning("failed to transfer leadership", metadata: [
                "local-member-id": .id(memberID), "transferee-member-id": .id(transferee), "error": "\(error)"])
        }
    }

    /// The most up-to-date connected voter (highest match index, then lowest ID).
    static func transferee(among voters: [UInt64], matchIndex: [UInt64: UInt64],
                           connected: (UInt64) -> Bool) -> UInt64? {
        voters.filter(connected).min { a, b in
            let (ma, mb) = (matchIndex[a] ?? 0, matchIndex[b] ?? 0)
            return ma != mb ? ma > mb : a < b
        }
    }

    /// The fields etcd's "closing etcd server" / "closed etcd server" carry.
    var identityFields: Logger.Metadata {
        ["name": .string(options.name), "data-dir": .string(options.dataDir),
         "advertise-peer-urls": .strings(options.initialAdvertisePeerURLs),
         "advertise-client-urls": .strings(options.advertiseClientURLs)]
    }
}
