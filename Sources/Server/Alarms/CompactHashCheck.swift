import Foundation
import Logging
import MVCC

/// `--experimental-compact-hash-check-enabled` (etcd 3.5's
/// `CompactHashCheck`): every `--experimental-compact-hash-check-time`, the
/// leader compares its hash of the history right after the latest
/// compaction with each follower's. Members that disagree with a quorum get
/// the CORRUPT alarm; without a quorum the alarm names member 0 (the whole
/// cluster), as etcd does.
///
/// etcd hashes at the compaction revision itself; HashKV at exactly the
/// compaction revision is refused by etcd 3.5.1 and by us, so the hash is
/// taken at the next revision (the first a compaction leaves readable).
enum CompactHashCheck {
    /// What a check found: nothing, or the members to raise CORRUPT for
    /// (`[0]`: mismatch with no majority).
    enum Finding: Equatable {
        case consistent(peersChecked: Int)
        /// Not every peer could be compared; try again next round.
        case incomplete(peersChecked: Int)
        case corrupt([UInt64])
    }

    /// etcd's `checkPeerHashes`: group the leader and the comparable peers
    /// (same compaction) by hash; a quorum with one hash names the others.
    /// Unlike etcd, a mismatch without a quorum while some peer could not be
    /// compared yet (down, or not done applying the compaction) waits for the
    /// next round instead of alarming the whole cluster.
    static func judge(leaderID: UInt64, leader: CorruptionCheck.HashPoint, peers: [(UInt64, CorruptionCheck.PeerResult)]) -> Finding {
        var byHash: [UInt32: [UInt64]] = [leader.hash: [leaderID]]
        var checked = 0
        for (id, result) in peers {
            guard case .answer(let a) = result, a.outcome == .ok, a.compactRevision == leader.compactRevision else { continue }
            checked += 1
            byHash[a.hash, default: []].append(id)
        }
        if byHash.count == 1 { return checked == peers.count ? .consistent(peersChecked: checked) : .incomplete(peersChecked: checked) }
        let quorum = (peers.count + 1) / 2 + 1
        if let majority = byHash.first(where: { $0.value.count >= quorum })?.key {
            return .corrupt(byHash.filter { $0.key != majority }.flatMap(\.value).sorted())
        }
        return checked == peers.count ? .corrupt([0]) : .incomplete(peersChecked: checked)
    }

    /// Starts the periodic check; it acts only while this member leads and
    /// only once per compaction revision.
    static func start(server: EtcdServer, intervalMs: Int) -> Task<Void, Never>? {
        guard intervalMs > 0, server.peers != nil else { return nil }
        server.logger.info("enabled compaction hash check", metadata: [
            "local-member-id": .id(server.memberID), "interval": .duration(.milliseconds(intervalMs))])
        return Task.detached { [weak server] in
            var checkedCompaction: Int64 = -1
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(intervalMs) * 1_000_000)
                guard let server, !Task.isCancelled else { return }
                let compact = server.store.compactRevision
                guard server.loop.status.isLeader, compact > 0, compact != checkedCompaction,
                      compact < server.store.currentRevision else { continue }
                if await check(server: server, compactRevision: compact) { checkedCompaction = compact }
            }
        }
    }

    /// One round; returns whether the compaction counts as checked (every
    /// peer compared, or every mismatch's alarm raised).
    static func check(server: EtcdServer, compactRevision: Int64) async -> Bool {
        guard let peers = server.peers else { return true }
        let logger = server.logger, store = server.store
        logger.info("starting compact hash check", metadata: ["local-member-id": .id(server.memberID)])
        let revision = compactRevision + 1
        guard let local = try? await offLoop({ try store.hashKV(revision: revision) }) else { return false }
        let point = CorruptionCheck.HashPoint(hash: local.hash, revision: revision, compactRevision: local.compactRevision)
        let results = await CorruptionMonitor.gather(peers, revision: revision, timeoutSeconds: server.requestTimeoutSeconds)
        switch judge(leaderID: server.memberID, leader: point, peers: results) {
        case .consistent(let n):
            logger.info("successfully checked hash on whole cluster", metadata: [
                "number-of-peers-checked": .int(n), "revision": .int(revision)])
            return true
        case .incomplete(let n):
            logger.warning("skipped revision in compaction hash check; was not able to check all peers", metadata: [
                "number-of-peers-checked": .int(n), "number-of-peers": .int(results.count), "revision": .int(revision)])
            return false
        case .corrupt(let members):
            let peerHashes = results.map { id, r -> String in
                if case .answer(let a) = r { return "\(String(id, radix: 16)):\(a.hash)@\(a.compactRevision)" }
                return "\(String(id, radix: 16)):unreachable"
            }
            var raised = true
            for id in members {
                logger.error("Detected compaction hash mismatch", metadata: [
                    "revision": .int(revision), "compact-revision": .int(point.compactRevision),
                    "leader-member-id": .id(server.memberID), "leader-hash": .uint(UInt64(point.hash)),
                    "mismatched-member-id": .id(id), "peer-hashes": .strings(peerHashes)])
                do { try await CorruptionMonitor.raiseCorrupt(server: server, memberID: id) } catch {
                    // etcd fires the alarm and forgets it; a proposal lost to a leader change or a
                    // timeout is retried next round instead (an alarm already active is not re-proposed).
                    logger.warning("failed to raise the CORRUPT alarm; retrying next round", metadata: [
                        "mismatched-member-id": .id(id), "error": "\(error)"])
                    raised = false
                }
            }
            return raised
        }
    }
}
