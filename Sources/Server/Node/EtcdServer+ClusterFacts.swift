import Config
import Foundation
import Logging
import MVCC

/// The two entries etcd 3.5.1 logs at start-up, logged the same way (what
/// keeps this member's log, consistent index and snapshots equal to etcd's
/// for the same history):
/// - every member, at every start, publishes its attributes through Raft
///   (`PUT /0/members/<id>/attributes`) and is ready once that is applied;
/// - the leader, once every member is known and the store holds no cluster
///   version yet, sets it (`PUT /0/version` "3.5.0").
/// Both are `V2Request`s, the bytes etcd proposes.
extension EtcdServer {
    /// etcd's `publish`: proposes this member's attributes until they are
    /// applied here (a new request ID each try), then readiness may follow.
    func publishAttributes() {
        let json = EtcdMemberJSON.attributes(name: options.name, clientURLs: options.advertiseClientURLs)
        let path = V2Request.attributesPath(memberID)
        Task.detached { [self] in
            let clock = ContinuousClock()
            while !stopping.isFired {
                // etcd's proposal waits for a leader rather than failing: so does this one.
                if loop.status.leader == 0 {
                    try? await Task.sleep(nanoseconds: 20_000_000)
                    continue
                }
                let id = nextRequestID()
                let data = V2Request(id: id, method: "PUT", path: path, value: String(decoding: json, as: UTF8.self)).encoded()
                let began = clock.now
                do {
                    _ = try await applyWaits.wait(id: id, deadline: .after(seconds: requestTimeoutSeconds)) {
                        loop.propose(id: id, data: data)
                    }
                    published.fire()
                    return
                } catch {
                    if stopping.isFired { break }
                    logger.warning("failed to publish local member to cluster through raft", metadata: [
                        "local-member-id": .id(memberID), "request-path": .string(path), "error": "\(error)"])
                    // A proposal dropped at once (leadership changing) is retried after a pause, not in a spin.
                    if clock.now - began < .milliseconds(200) { try? await Task.sleep(nanoseconds: 200_000_000) }
                }
            }
            logger.warning("stopped publish because server is stopped", metadata: ["local-member-id": .id(memberID)])
        }
    }

    /// etcd's monitorVersions: on the leader, every 100 ms, proposes what
    /// `ClusterVersionPolicy` decides (the first version, "3.0.0" while a
    /// member stays unknown, or a raise once every member is known). Ends
    /// once the store holds this release's version.
    func monitorClusterVersion() {
        Task.detached { [self] in
            let ours = ClusterVersionPolicy.majorMinorZero(SwiftEtcdVersion.cluster)
            let clock = ContinuousClock()
            var leaderSince: ContinuousClock.Instant?
            while !stopping.isFired {
                let current = ClusterVersion.load(from: store)
                if let current, !ClusterVersionPolicy.lessThan(current, ours) { return }
                if loop.status.isLeader {
                    let since = leaderSince ?? clock.now
                    leaderSince = since
                    if let version = ClusterVersionPolicy.proposal(
                        current: current, ours: ours, everyMemberKnown: everyMemberKnown(),
                        leaderFor: clock.now - since) {
                        await proposeClusterVersion(version, replacing: current)
                    }
                } else {
                    leaderSince = nil
                }
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
    }

    private func everyMemberKnown() -> Bool {
        let heard = peers?.heardFrom ?? []
        return membership.all.allSatisfy { $0.id == memberID || heard.contains($0.id) }
    }

    private func proposeClusterVersion(_ version: String, replacing current: String?) async {
        if let current {
            logger.info("updating cluster version using v2 API", metadata: [
                "from": .string(ClusterVersion.majorMinor(current)), "to": .string(ClusterVersion.majorMinor(version))])
        } else {
            logger.info("setting up initial cluster version using v2 API",
                        metadata: ["cluster-version": .string(ClusterVersion.majorMinor(version))])
        }
        let id = nextRequestID()
        let data = V2Request(id: id, method: "PUT", path: V2Request.versionPath, value: version).encoded()
        do {
            _ = try await applyWaits.wait(id: id, deadline: .after(seconds: requestTimeoutSeconds)) {
                loop.propose(id: id, data: data)
            }
            logger.info("cluster version is updated", metadata: ["cluster-version": .string(ClusterVersion.majorMinor(version))])
        } catch {
            logger.warning("failed to update cluster version", metadata: ["error": "\(error)"])
        }
    }

    /// A cluster version was applied (`previous`: the one before, if any).
    func clusterVersionApplied(_ version: String, previous: String?) {
        let shown = ClusterVersion.majorMinor(version)
        if let previous {
            guard previous != version else { return }
            metrics.clusterVersions.retire(ClusterVersion.majorMinor(previous))
            logger.info("updated cluster version", metadata: [
                "cluster-id": .id(clusterID), "local-member-id": .id(memberID),
                "from": .string(ClusterVersion.majorMinor(previous)), "to": .string(shown)])
        } else {
            logger.info("set initial cluster version", metadata: [
                "cluster-id": .id(clusterID), "local-member-id": .id(memberID), "cluster-version": .string(shown)])
        }
        logger.info("enabled capabilities for version", metadata: ["cluster-version": .string(shown)])
    }

    /// A member's published attributes were applied: what MemberList shows.
    func memberAttributesApplied(_ id: UInt64, json: [UInt8]) {
        struct Wire: Decodable {
            var name: String?
            var clientURLs: [String]?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(json)) else {
            logger.warning("published member attributes do not decode", metadata: ["member-id": .id(id)])
            return
        }
        membership.update(id, attributes: MemberAttributes(name: wire.name ?? "", clientURLs: wire.clientURLs ?? []))
    }
}
