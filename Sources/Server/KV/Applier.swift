import Auth
import Logging
import MVCC
import Proto
import Raft

/// The result a proposer waits for: the store's answer and the Raft term it
/// was applied in (for the response header).
struct AppliedResult: Sendable {
    var response: Result<WriteResponse, KVError>
    var term: UInt64
    /// What an applied auth operation answers.
    var auth: AuthAnswer? = nil
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
    /// etcd's authApplierV3: permission checks and auth operations.
    private let authStage: AuthApplyStage

    private enum LeaseOp {
        case grant(id: Int64, ttl: Int64)
        case revoke(Int64)
        case checkpoint([StoredLease])
    }

    private enum Decoded {
        case kv(WriteRequest)
        case lease(LeaseOp)
        case auth(AuthRequest)
    }

    init(store: MVCCStore, lessor: Lessor, hub: WatchHub, waits: WaitRegistry<AppliedResult>, authStage: AuthApplyStage,
         logger: Logger) {
        self.store = store
        self.lessor = lessor
        self.hub = hub
        self.waits = waits
        self.authStage = authStage
        self.logger = logger
    }

    func apply(_ entries: [Entry], term: UInt64) {
        var run: [(index: UInt64, request: WriteRequest)] = []
        var ids: [UInt64] = []
        run.reserveCapacity(entries.count)
        ids.reserveCapacity(entries.count)
        for entry in entries {
            let (id, decoded, header) = decode(entry)
            switch decoded {
            case .kv(let request):
                if entry.index > store.consistentIndex, let refusal = authStage.refusal(write: request, header: header) {
                    // Refused entries change nothing but their index.
                    if id != 0 { waits.trigger(id: id, .success(AppliedResult(response: .failure(refusal), term: term))) }
                    run.append((entry.index, .noop))
                    ids.append(0)
                    continue
                }
                run.append((entry.index, request))
                ids.append(id)
            case .lease(let op):
                commit(run, ids: ids, term: term)
                run.removeAll(keepingCapacity: true)
                ids.removeAll(keepingCapacity: true)
                applyLease(op, index: entry.index, id: id, term: term, header: header)
            case .auth(let request):
                commit(run, ids: ids, term: term)
                run.removeAll(keepingCapacity: true)
                ids.removeAll(keepingCapacity: true)
                applyAuth(request, index: entry.index, id: id, term: term, header: header)
            }
        }
        commit(run, ids: ids, term: term)
    }

    /// Applies a run in one commit; returns the results (after waking waiters
    /// unless `answer` is false).
    @discardableResult
    private func commit(_ batch: [(index: UInt64, request: WriteRequest)], ids: [UInt64], term: UInt64,
                        answer: Bool = true) -> [Result<WriteResponse, KVError>] {
        guard !batch.isEmpty else { return [] }
        let result = store.apply(batch: batch, leaseExists: { [lessor] in lessor.exists($0) })
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

    private func applyLease(_ op: LeaseOp, index: UInt64, id: UInt64, term: UInt64, header: Swiftetcd.RequestHeader?) {
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
            if let refusal = authStage.refusal(leaseRevoke: leaseID, header: header) {
                commit([(index, .noop)], ids: [id], term: term, answer: false)
                answer(.failure(refusal))
                return
            }
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

    /// Applies an auth operation in its own commit (its records with the
    /// entry's index); entries replayed after a restart are in the store already.
    private func applyAuth(_ request: AuthRequest, index: UInt64, id: UInt64, term: UInt64, header: Swiftetcd.RequestHeader?) {
        func answer(_ r: Result<WriteResponse, KVError>, _ auth: AuthAnswer?) {
            if id != 0 { waits.trigger(id: id, .success(AppliedResult(response: r, term: term, auth: auth))) }
        }
        if index <= store.consistentIndex {
            answer(commit([(index, .noop)], ids: [id], term: term, answer: false)[0], nil)
            return
        }
        switch authStage.apply(request, index: index, header: header) {
        case .success(let applied):
            let write: WriteRequest = applied.records.isEmpty ? .noop : .bucketRecords(applied.records.map(BucketRecord.init))
            answer(commit([(index, write)], ids: [id], term: term, answer: false)[0], applied.answer)
        case .failure(let refusal):
            commit([(index, .noop)], ids: [id], term: term, answer: false)
            answer(.failure(refusal), nil)
        }
    }

    /// The request ID (0 for entries nobody waits on), what to apply, and
    /// the proposer's header (its identity for the auth checks).
    private func decode(_ entry: Entry) -> (UInt64, Decoded, Swiftetcd.RequestHeader?) {
        guard entry.type == .normal, !entry.data.isEmpty else { return (0, .kv(.noop), nil) }
        let request: Swiftetcd.InternalRaftRequest
        do {
            request = try entry.data.withUnsafeBytes { try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }
        } catch {
            logger.error("skipping undecodable raft entry", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            return (0, .kv(.noop), nil)
        }
        let (id, decoded) = kind(of: request, index: entry.index)
        return (id, decoded, request.header)
    }

    private func kind(of request: Swiftetcd.InternalRaftRequest, index: UInt64) -> (UInt64, Decoded) {
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
        if let auth = AuthRequest(request) { return (request.id, .auth(auth)) }
        logger.warning("raft entry with a request this member does not apply yet", metadata: ["index": "\(index)"])
        return (request.id, .kv(.noop))
    }
}
