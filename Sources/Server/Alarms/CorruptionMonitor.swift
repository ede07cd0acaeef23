import Foundation
import Logging
import MVCC
import Proto

/// Runs etcd's corruption checks against the peers (hash requests go over
/// the peer link, frames 16/17): the start-up check (`--experimental-initial-
/// corrupt-check`) and, while this member leads, the periodic one
/// (`--experimental-corrupt-check-time`), which raises the CORRUPT alarm
/// through Raft on a mismatch. Decisions: `CorruptionCheck`.
final class CorruptionMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Void, Never>?  // guarded by `lock`
    private var compactTask: Task<Void, Never>?  // guarded by `lock`

    /// Starts the compaction hash check (`CompactHashCheck`).
    func startCompactHashCheck(server: EtcdServer, intervalMs: Int) {
        let t = CompactHashCheck.start(server: server, intervalMs: intervalMs)
        lock.withLock { compactTask = t }
    }

    /// Throws etcd's "<id> found data inconsistency with peers" if a peer at
    /// the same compact revision has another hash. Peers that are down or
    /// lagging are logged and skipped, as etcd does.
    static func initialCheck(server: EtcdServer) async throws {
        guard let peers = server.peers else { return }
        let logger = server.logger, localID = String(server.memberID, radix: 16)
        logger.info("starting initial corruption check", metadata: [
            "local-member-id": "\(localID)", "timeout": "\(server.requestTimeoutSeconds)s"])
        let store = server.store
        let local = CorruptionCheck.HashPoint(try await offLoop { try store.hashKV(revision: 0) })
        let results = await gather(peers, revision: local.revision, timeoutSeconds: server.requestTimeoutSeconds)
        var mismatches = 0
        for (id, result) in results {
            var fields: Logger.Metadata = [
                "local-member-id": "\(localID)", "local-member-revision": "\(local.revision)",
                "local-member-compact-revision": "\(local.compactRevision)", "local-member-hash": "\(local.hash)",
                "remote-peer-id": "\(String(id, radix: 16))",
            ]
            if case .answer(let a) = result {
                fields["remote-peer-revision"] = "\(a.revision)"
                fields["remote-peer-compact-revision"] = "\(a.compactRevision)"
                fields["remote-peer-hash"] = "\(a.hash)"
            }
            switch CorruptionCheck.initialFinding(local: local, peer: result) {
            case .consistent: break
            case .mismatch(let why): mismatches += 1; logger.warning("\(why)", metadata: fields)
            case .skipped(let why): logger.warning("\(why)", metadata: fields)
            }
        }
        if mismatches > 0 { throw StartupError(CorruptionCheck.inconsistencyMessage(memberID: server.memberID)) }
        logger.info("initial corruption checking passed; no corruption", metadata: ["local-member-id": "\(localID)"])
    }

    /// Starts the periodic check; it acts only while this member leads.
    func start(server: EtcdServer, intervalSeconds: Double) {
        guard intervalSeconds > 0, server.peers != nil else { return }
        server.logger.info("enabled corruption checking", metadata: [
            "local-member-id": "\(String(server.memberID, radix: 16))", "interval": "\(intervalSeconds)s"])
        let t = Task.detached { [weak server] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(intervalSeconds * 1e9))
                guard let server, !Task.isCancelled else { return }
                guard server.loop.status.isLeader else { continue }
                do { try await Self.periodicCheck(server: server) } catch {
                    server.logger.warning("failed to check hash KV", metadata: ["error": "\(error)"])
                }
            }
        }
        lock.withLock { task = t }
    }

    func stop() {
        let (a, b) = lock.withLock { (task, compactTask) }
        a?.cancel()
        b?.cancel()
    }

    /// etcd's `checkHashKV`: own hash, the followers' at that revision, a
    /// linearizable barrier, own hash again; any mismatch raises CORRUPT.
    static func periodicCheck(server: EtcdServer) async throws {
        guard let peers = server.peers else { return }
        let store = server.store, logger = server.logger
        let first = CorruptionCheck.HashPoint(try await offLoop { try store.hashKV(revision: 0) })
        let results = await gather(peers, revision: first.revision, timeoutSeconds: server.requestTimeoutSeconds)
        try await server.linearizableBarrier()
        let second = CorruptionCheck.HashPoint(try await offLoop { try store.hashKV(revision: 0) })
        let findings = CorruptionCheck.periodicFindings(first: first, second: second, peers: results)
        var corrupt: UInt64?
        if case .mismatch(let why) = findings.leader {
            logger.warning("\(why)", metadata: [
                "revision-1": "\(first.revision)", "compact-revision-1": "\(first.compactRevision)", "hash-1": "\(first.hash)",
                "revision-2": "\(second.revision)", "compact-revision-2": "\(second.compactRevision)", "hash-2": "\(second.hash)"])
            corrupt = server.memberID
        }
        var checked = 0
        for (id, finding) in findings.followers {
            guard case .answer(let a)? = results.first(where: { $0.0 == id })?.1 else { continue }
            checked += 1
            guard case .mismatch(let why) = finding else { continue }
            logger.warning("\(why)", metadata: [
                "leader-member-id": "\(String(server.memberID, radix: 16))",
                "leader-revision": "\(second.revision)", "leader-compact-revision": "\(second.compactRevision)",
                "leader-hash": "\(first.hash)", "hash-revision": "\(first.revision)",
                "follower-peer-id": "\(String(id, radix: 16))", "follower-revision": "\(a.revision)",
                "follower-compact-revision": "\(a.compactRevision)", "follower-hash": "\(a.hash)"])
            if corrupt == nil { corrupt = id }
        }
        logger.info("finished peer corruption check", metadata: ["number-of-peers-checked": "\(checked)"])
        if let corrupt { try await raiseCorrupt(server: server, memberID: corrupt) }
    }

    /// Activates CORRUPT for `memberID` through Raft, so every member sees it.
    static func raiseCorrupt(server: EtcdServer, memberID: UInt64) async throws {
        guard !server.alarms.get(.corrupt).contains(where: { $0.memberID == memberID }) else { return }
        try await server.proposeAlarm(.corrupt, memberID: memberID)
    }

    /// One peer's HashKV at `revision`, or `.unreachable`.
    private static func ask(_ peers: PeerNetwork, _ id: UInt64, revision: Int64,
                            timeoutSeconds: Double) async -> (UInt64, CorruptionCheck.PeerResult) {
        do {
            return (id, .answer(try await peers.hashKV(of: id, revision: revision, timeoutSeconds: timeoutSeconds)))
        } catch {
            return (id, .unreachable)
        }
    }

    /// Every peer's HashKV at `revision`, asked concurrently.
    static func gather(_ peers: PeerNetwork, revision: Int64, timeoutSeconds: Double)
        async -> [(UInt64, CorruptionCheck.PeerResult)] {
        await withTaskGroup(of: (UInt64, CorruptionCheck.PeerResult).self) { group in
            for id in peers.peerIDs {
                // The do/catch lives in `ask`, which gets the ID as an
                // argument: written inline in this closure, Swift 6.3.1 at -O
                // returns 0 for the captured ID on the success path
                // (Tests/CompilerDefects/async-catch-capture).
                group.addTask { await ask(peers, id, revision: revision, timeoutSeconds: timeoutSeconds) }
            }
            var out: [(UInt64, CorruptionCheck.PeerResult)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
    }
}
