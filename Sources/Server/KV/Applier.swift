import Foundation
import Logging
import MVCC
import Proto
import Raft

/// The result a proposer waits for: the store's answer and the Raft term it
/// was applied in (for the response header).
struct AppliedResult: Sendable {
    var response: Result<WriteResponse, KVError>
    var term: UInt64
}

/// Applies committed entries: decodes each entry's `InternalRaftRequest`,
/// applies runs of KV requests in one LMDB commit, hands every commit's
/// events to the lessor (key attachments) and the watch hub, and wakes the
/// proposers waiting on this member. An entry that cannot be decoded or
/// fails is answered with an error and recorded as applied; it never stops
/// the server, now or at restart.
///
/// Lease requests end the current run: whether a lease exists, and which
/// keys a revoke deletes, must reflect every entry before it.
final class KVApplier: CommittedEntryApplier {
    private let store: MVCCStore
    private let lessor: Lessor
    private let hub: WatchHub
    private let waits: WaitRegistry<AppliedResult>
    private let logger: Logger
    private let slow: SlowWarnings
    /// Most requests in one store commit (`--backend-batch-limit`; 0: a
    /// commit per Raft batch, however large).
    var batchLimit = 0

    private enum LeaseOp {
        case grant(id: Int64, ttl: Int64)
        case revoke(Int64)
        case checkpoint([StoredLease])
    }

    private enum Decoded {
        case kv(WriteRequest)
        case lease(LeaseOp)
    }

    init(store: MVCCStore, lessor: Lessor, hub: WatchHub, waits: WaitRegistry<AppliedResult>, logger: Logger,
         slow: SlowWarnings? = nil) {
        self.slow = slow ?? SlowWarnings(logger: logger)
        self.store = store
        self.lessor = lessor
        self.hub = hub
        self.waits = waits
        self.logger = logger
    }

    func apply(_ entries: [Entry], term: UInt64) {
        var run: [(index: UInt64, request: WriteRequest)] = []
        var ids: [UInt64] = []
        run.reserveCapacity(entries.count)
        ids.reserveCapacity(entries.count)
        func flush() {
            commit(run, ids: ids, term: term)
            run.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
        }
        for entry in entries {
            let (id, decoded) = decode(entry)
            switch decoded {
            case .kv(let request):
                run.append((entry.index, request))
                ids.append(id)
                if batchLimit > 0 && run.count >= batchLimit { flush() }
            case .lease(let op):
                flush()
                applyLease(op, index: entry.index, id: id, term: term)
            }
        }
        flush()
    }

    /// Applies a run in one commit; returns the results (after waking waiters
    /// unless `answer` is false).
    @discardableResult
    private func commit(_ batch: [(index: UInt64, request: WriteRequest)], ids: [UInt64], term: UInt64,
                        answer: Bool = true) -> [Result<WriteResponse, KVError>] {
        guard !batch.isEmpty else { return [] }
        let clock = ContinuousClock()
        let began = clock.now
        let result = store.apply(batch: batch, leaseExists: { [lessor] in lessor.exists($0) })
        // etcd warns per request; a batch shares one commit, so its first request names it.
        slow.apply(took: clock.now - began, request: batch.count == 1 ? RequestText.describe(batch[0].request)
                   : "\(RequestText.describe(batch[0].request)) (and \(batch.count - 1) more in the same commit)")
        if let first = result.results.first, case .failure(let e) = first, e.code == .internal {
            // The store could not write: the entries are committed but not
            // applied. Continuing would diverge from the log.
            logger.critical("failed to apply committed entries", metadata: ["error": "\(e.message)"])
            fatalError("swift-etcd: failed to apply committed entries: \(e.message)")
        }
        if !result.events.isEmpty { lessor.applyEvents(result.events) }
        hub.notify(events: result.events, revision: store.currentRevision)
        if answer {
            for (i, response) in result.results.enumerated() where ids[i] != 0 {
                waits.trigger(id: ids[i], .success(AppliedResult(response: response, term: term)))
            }
        }
        return result.results
    }

    private func applyLease(_ op: LeaseOp, index: UInt64, id: UInt64, term: UInt64) {
        func answer(_ r: Result<WriteResponse, KVError>) {
            if id != 0 { waits.trigger(id: id, .success(AppliedResult(response: r, term: term))) }
        }
        if index <= store.consistentIndex {  // replayed after a restart: already in the store
            answer(commit([(index, .noop)], ids: [id], term: term, answer: false)[0])
            return
        }
        switch op {
        case .grant(let leaseID, let ttl):
            switch lessor.prepareGrant(id: leaseID, ttlSeconds: ttl) {
            case .success(let lease):
                let r = commit([(index, .leaseGrant(lease))], ids: [id], term: term, answer: false)[0]
                if case .success = r { lessor.applyGrant(lease) }
                answer(r)
            case .failure(let e):
                commit([(index, .noop)], ids: [id], term: term, answer: false)
                answer(.failure(e))
            }
        case .revoke(let leaseID):
            guard let keys = lessor.keysToRevoke(leaseID) else {
                commit([(index, .noop)], ids: [id], term: term, answer: false)
                answer(.failure(LeaseErrors.notFound))
                return
            }
            let r = commit([(index, .leaseRevoke(id: leaseID, keys: keys))], ids: [id], term: term, answer: false)[0]
            lessor.applyRevoke(leaseID)
            answer(r)
        case .checkpoint(let checkpoints):
            let r = commit([(index, .leaseCheckpoint(checkpoints))], ids: [id], term: term, answer: false)[0]
            for c in checkpoints { lessor.applyCheckpoint(c) }
            answer(r)
        }
    }

    /// The request ID (0 for entries nobody waits on) and what to apply.
    private func decode(_ entry: Entry) -> (UInt64, Decoded) {
        guard entry.type == .normal, !entry.data.isEmpty else { return (0, .kv(.noop)) }
        let request: Swiftetcd.InternalRaftRequest
        do {
            request = try entry.data.withUnsafeBytes { try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }
        } catch {
            logger.error("skipping undecodable raft entry", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            return (0, .kv(.noop))
        }
        if let put = request.put { return (request.id, .kv(.put(KVMapping.put(put)))) }
        if let del = request.deleteRange { return (request.id, .kv(.deleteRange(KVMapping.deleteRange(del)))) }
        if let txn = request.txn { return (request.id, .kv(.txn(KVMapping.txn(txn)))) }
        if let compaction = request.compaction { return (request.id, .kv(.compact(KVMapping.compaction(compaction)))) }
        if let grant = request.leaseGrant { return (request.id, .lease(.grant(id: grant.id, ttl: grant.ttl))) }
        if let revoke = request.leaseRevoke { return (request.id, .lease(.revoke(revoke.id))) }
        if let cp = request.leaseCheckpoint {
            let leases = cp.checkpoints.map { StoredLease(id: $0.id, ttlSeconds: 0, remainingTTLSeconds: $0.remainingTTL) }
            return (request.id, .lease(.checkpoint(leases)))
        }
        logger.warning("raft entry with a request this member does not apply yet", metadata: ["index": "\(entry.index)"])
        return (request.id, .kv(.noop))
    }
}
