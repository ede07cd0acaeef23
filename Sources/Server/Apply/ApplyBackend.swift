import Auth
import Config
import Foundation
import Logging
import MVCC
import Proto
import Support

/// The last stage of the apply chain (etcd's applierV3backend): applies the
/// entries the guards let through to the MVCC store, the lessor, the alarm
/// store and the watch hub, and reports each entry's answer.
///
/// Runs of KV requests are applied in one LMDB commit (where throughput
/// comes from). A lease request ends the current run: whether a lease
/// exists, and which keys a revoke deletes, must reflect every entry before
/// it. Alarms change the `AlarmStore` at once (the guards read it for the
/// entries that follow) and are recorded in the run as no-ops.
///
/// Used only from the thread applying (`ApplyStage`'s, or the Raft loop's
/// while that one is idle: `ApplyRoute`), through `ApplyPipeline`.
final class ApplyBackend {
    private let store: MVCCStore
    private let lessor: Lessor
    private let hub: WatchHub
    private let alarms: AlarmStore
    /// Users and roles: auth entries change it (the auth guard checked them).
    private let auth: AuthStore
    private let logger: Logger
    private let slow: SlowWarnings
    /// etcd_mvcc_put_total and its kin, counted as entries apply.
    private let ops: MVCCOpMetrics
    /// Most requests in one store commit (`--backend-batch-limit`; 0: one
    /// commit per run, however long).
    var batchLimit = 0
    /// Told of an applied cluster version (the new one, the one before or
    /// nil) and of a member's applied attributes (its ID, etcd's JSON):
    /// the member logs the first and updates its membership with the second.
    var clusterVersionApplied: (String, String?) -> Void = { _, _ in }
    var memberAttributesApplied: (UInt64, [UInt8]) -> Void = { _, _ in }

    /// Where answers go: (request ID, result, an auth operation's answer);
    /// only called for IDs ≠ 0.
    typealias Respond = (UInt64, Result<WriteResponse, ServerError>, AuthAnswer?) -> Void

    /// The pending run: requests for one commit, and who waits on each.
    private var run: [(index: UInt64, request: WriteRequest)] = []
    private var ids: [UInt64] = []
    /// Events were published to the watch hub and its fan-out not started yet (see `answered`).
    private var fanOutDue = false

    init(store: MVCCStore, lessor: Lessor, hub: WatchHub, alarms: AlarmStore,
         auth: AuthStore = AuthStore(tokens: .simple(SimpleTokens(ttlSeconds: 300)), bcryptCost: PasswordHasher.defaultCost),
         logger: Logger, slow: SlowWarnings? = nil, ops: MVCCOpMetrics = MVCCOpMetrics()) {
        self.slow = slow ?? SlowWarnings(logger: logger)
        self.ops = ops
        self.store = store
        self.lessor = lessor
        self.hub = hub
        self.alarms = alarms
        self.auth = auth
        self.logger = logger
    }

    /// The index of the last entry the store holds (its consistent index).
    var appliedIndex: UInt64 { store.consistentIndex }

    /// Applies `entry` (or adds it to the current run). Call `flush` after
    /// the last entry of a batch.
    func apply(_ entry: ApplyEntry, respond: Respond) {
        switch entry.request {
        case .write(let request):
            append(entry.index, request, id: entry.id)
            if batchLimit > 0 && run.count >= batchLimit { flush(respond: respond) }
        case .noop, .range, .unknown, .undecodable:
            append(entry.index, .noop, id: entry.id)
        case .alarm(let alarm):
            applyAlarm(alarm)  // idempotent: a replay after a crash changes nothing
            append(entry.index, .noop, id: entry.id)
        case .leaseGrant, .leaseRevoke, .leaseCheckpoint:
            flush(respond: respond)
            let result = applyLease(entry)
            if entry.id != 0 { respond(entry.id, result, nil) }
        case .downgrade(let info):
            // etcd's SetDowngradeInfo: the record goes into the run's commit.
            append(entry.index, .bucketRecords([info.record]), id: entry.id)
            if info.enabled {
                logger.info("The server is ready to downgrade", metadata: [
                    "target-version": "\(info.targetVersion)", "server-version": "\(SwiftEtcdVersion.etcdCompatible)"])
            }
        case .clusterVersion(let version):
            // etcd's SetVersion: the `cluster` bucket's record, in its own commit
            // (rare), so the version before it is read settled.
            flush(respond: respond)
            let previous = ClusterVersion.load(from: store)
            let result = commitOne(entry.index, .bucketRecords([ClusterVersion.record(version)]))
            clusterVersionApplied(version, previous)
            if entry.id != 0 { respond(entry.id, result, nil) }
        case .memberAttributes(let memberID, let json):
            // etcd 3.5.1 keeps published attributes in its v2 store only: the
            // `members` bucket is unchanged; the index is recorded.
            append(entry.index, .noop, id: entry.id)
            memberAttributesApplied(memberID, json)
        case .auth(let request):
            // Auth changes end the run: entries after it are checked against them.
            flush(respond: respond)
            let (result, answer) = applyAuth(request, index: entry.index)
            if entry.id != 0 { respond(entry.id, result, answer) }
        }
    }

    /// Commits the current run and answers its proposers.
    func flush(respond: Respond) {
        let results = commit(run)
        for (i, result) in results.enumerated() where ids[i] != 0 { respond(ids[i], result, nil) }
        run.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        answered()
    }

    /// Starts the watch fan-out of what was committed since the last call,
    /// now that its proposers are answered. (Entries answered inside `apply`
    /// — leases, auth — wait for the `flush` that ends every apply.)
    private func answered() {
        guard fanOutDue else { return }
        fanOutDue = false
        hub.startFanOut()
    }

    private func append(_ index: UInt64, _ request: WriteRequest, id: UInt64) {
        run.append((index, request))
        ids.append(id)
    }

    /// Applies `batch` in one commit: events go to the lessor (key
    /// attachments) and the watch hub.
    private func commit(_ batch: [(index: UInt64, request: WriteRequest)]) -> [Result<WriteResponse, ServerError>] {
        guard !batch.isEmpty else { return [] }
        let began = ContinuousClock().now
        return finish(batch, store.prepare(batch: batch, leaseExists: { [lessor] in lessor.exists($0) }), began: began)
    }

    /// Commits a prepared `batch` and does what follows a commit: slow-apply
    /// warning, lessor and watch hub events, op counters.
    private func finish(_ batch: [(index: UInt64, request: WriteRequest)], _ prepared: PreparedBatch,
                        began: ContinuousClock.Instant) -> [Result<WriteResponse, ServerError>] {
        let result = store.commit(prepared)
        // etcd warns per request; a run shares one commit, so its first request names it.
        slow.apply(took: ContinuousClock().now - began, request: batch.count == 1 ? RequestText.describe(batch[0].request)
                   : "\(RequestText.describe(batch[0].request)) (and \(batch.count - 1) more in the same commit)")
        if let first = result.results.first, case .failure(let e) = first, e.isStoreFailure {
            // The store could not write: the entries are committed but not
            // applied. Continuing would diverge from the log.
            logger.critical("failed to apply committed entries", metadata: ["error": "\(e.message)"])
            ProcessStop.fatal("failed to apply committed entries: \(e.message)")
        }
        if !result.events.isEmpty { lessor.applyEvents(result.events) }
        // Woken once the proposers are answered (`answered`): watchers must not slow writers.
        if hub.publish(events: result.events, revision: store.currentRevision) { fanOutDue = true }
        for (i, r) in result.results.enumerated() {
            if case .leaseRevoke(_, let keys) = batch[i].request {
                ops.record(.revoke(keys: keys.count))
            } else if case .success(let response) = r {
                ops.record(.of(response))
            }
        }
        return result.results.map { $0.mapError(ServerError.init) }
    }

    /// The pending run applied in an open store txn, not yet committed
    /// (`MVCCStore.prepare`): nothing is visible, nobody is answered.
    struct PreparedRun {
        fileprivate let batch: [(index: UInt64, request: WriteRequest)]
        fileprivate let ids: [UInt64]
        fileprivate let prepared: PreparedBatch
        fileprivate let began: ContinuousClock.Instant
    }

    /// Takes the pending run (KV requests and no-ops only: `apply` sends
    /// everything else to the store at once) into an open store txn. Exactly
    /// one of `finishPrepared` / `abortPrepared` must follow before anything
    /// else is applied.
    func prepareRun() -> PreparedRun {
        let began = ContinuousClock().now
        let prepared = PreparedRun(batch: run, ids: ids, prepared: store.prepare(batch: run, leaseExists: { [lessor] in lessor.exists($0) }),
                                   began: began)
        run.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        return prepared
    }

    /// Commits a prepared run and answers its proposers, as `flush` does.
    func finishPrepared(_ prepared: PreparedRun, respond: Respond) {
        guard !prepared.batch.isEmpty else { return store.abort(prepared.prepared) }
        let results = finish(prepared.batch, prepared.prepared, began: prepared.began)
        for (i, result) in results.enumerated() where prepared.ids[i] != 0 { respond(prepared.ids[i], result, nil) }
        answered()
    }

    /// Drops a prepared run: the store is as before it, nobody is answered.
    func abortPrepared(_ prepared: PreparedRun) {
        store.abort(prepared.prepared)
    }

    private func commitOne(_ index: UInt64, _ request: WriteRequest) -> Result<WriteResponse, ServerError> {
        commit([(index, request)])[0]
    }

    private func applyLease(_ entry: ApplyEntry) -> Result<WriteResponse, ServerError> {
        let index = entry.index
        if index <= store.consistentIndex {  // replayed after a restart: already in the store
            return commitOne(index, .noop)
        }
        switch entry.request {
        case .leaseGrant(let leaseID, let ttl):
            switch lessor.prepareGrant(id: leaseID, ttlSeconds: ttl) {
            case .success(let lease):
                let r = commitOne(index, .leaseGrant(lease))
                if case .success = r { lessor.applyGrant(lease) }
                return r
            case .failure(let e):
                _ = commitOne(index, .noop)
                return .failure(e)
            }
        case .leaseRevoke(let leaseID):
            guard let keys = lessor.keysToRevoke(leaseID) else {
                _ = commitOne(index, .noop)
                return .failure(LeaseErrors.notFound)
            }
            let r = commitOne(index, .leaseRevoke(id: leaseID, keys: keys))
            lessor.applyRevoke(leaseID)
            return r
        case .leaseCheckpoint(let checkpoints):
            let r = commitOne(index, .leaseCheckpoint(checkpoints))
            for c in checkpoints { lessor.applyCheckpoint(c) }
            return r
        default:
            preconditionFailure("applyLease called for a non-lease entry")
        }
    }

    /// Applies an auth operation in its own commit: its records (users,
    /// roles, the enabled flag and auth revision) with the entry's index.
    private func applyAuth(_ request: AuthRequest, index: UInt64) -> (Result<WriteResponse, ServerError>, AuthAnswer?) {
        switch auth.apply(request, index: index) {
        case .success(let applied):
            let write: WriteRequest = applied.records.isEmpty ? .noop : .bucketRecords(applied.records.map(BucketRecord.init))
            return (commitOne(index, write), applied.answer)
        case .failure(let failure):
            _ = commitOne(index, .noop)
            return (.failure(ServerError(failure.status)), nil)
        }
    }

    /// etcd's applierV3backend.Alarm: ACTIVATE and DEACTIVATE change the
    /// alarm store (persisted before the run commits, so re-applying after a
    /// crash is harmless); GET changes nothing.
    private func applyAlarm(_ alarm: Etcdserverpb.AlarmRequest) {
        switch alarm.action {
        case .activate:
            if let raised = alarms.activate(memberID: alarm.memberID, type: alarm.alarm) {
                logger.warning("alarm raised", metadata: ["alarm": "\(AlarmStore.describe(raised))"])
            }
        case .deactivate:
            if let cleared = alarms.deactivate(memberID: alarm.memberID, type: alarm.alarm) {
                logger.warning("alarm disarmed", metadata: ["alarm": "\(AlarmStore.describe(cleared))"])
            }
        default:
            break
        }
    }
}
