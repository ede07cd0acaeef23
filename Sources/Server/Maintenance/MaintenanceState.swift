import Foundation
import Logging
import MVCC
import Proto
import Raft

/// What the maintenance features keep per member: the alarms and the
/// backend quota, shared by the apply path (`AlarmApplier`) and the gRPC
/// services (`QuotaGuard`, Alarm, Status).
final class MaintenanceState: @unchecked Sendable {
    let alarms: AlarmStore
    /// Writes are refused once the db file would reach this size (etcd's
    /// --quota-backend-bytes, 2 GiB by default).
    let quotaBytes: Int64
    let autoCompactor = AutoCompactor()
    let corruptionMonitor = CorruptionMonitor()
    /// Bounds the `Maintenance.Snapshot` streams reading the store at once.
    let snapshotStreams = SnapshotStreamLimiter(limit: MaintenanceService.maxConcurrentStreams)
    /// Retained here: the Raft loop holds its applier weakly.
    private var applier: AlarmApplier?

    init(layout: DataDirLayout, quotaBytes: Int64) {
        alarms = AlarmStore(path: layout.memberDir + "/alarms")
        self.quotaBytes = quotaBytes
    }

    /// Puts the alarm decorator in front of the KV applier and returns it.
    func install(wrapping inner: CommittedEntryApplier, store: MVCCStore, waits: WaitRegistry<AppliedResult>,
                 logger: Logger) -> CommittedEntryApplier {
        if quotaBytes > Self.maxRecommendedQuotaBytes {
            logger.warning("quota exceeds the maximum value", metadata: [
                "quota-size-bytes": "\(quotaBytes)", "quota-maximum-size-bytes": "\(Self.maxRecommendedQuotaBytes)",
            ])
        }
        let a = AlarmApplier(inner: inner, alarms: alarms, store: store, waits: waits, logger: logger)
        applier = a
        return a
    }

    /// etcd's backendQuota.Available: a request that writes `costBytes`
    /// fits if the db file plus it stays below the quota.
    func available(costBytes: Int, dbSizeBytes: Int64) -> Bool {
        costBytes == 0 || dbSizeBytes + Int64(costBytes) < quotaBytes
    }

    /// etcd's MaxQuotaBytes: larger quotas work but are warned about.
    static let maxRecommendedQuotaBytes: Int64 = 8 << 30

    // etcd's cost estimates (etcdserver/quota.go).
    static let kvOverheadBytes = 256
    static let leaseOverheadBytes = 64

    static func cost(_ put: Etcdserverpb.PutRequest) -> Int { kvOverheadBytes + put.key.count + put.value.count }

    /// The larger branch's puts (top level only, as etcd counts).
    static func cost(_ txn: Etcdserverpb.TxnRequest) -> Int {
        func branch(_ ops: [Etcdserverpb.RequestOp]) -> Int {
            ops.reduce(0) { sum, op in
                if case .requestPut(let p)? = op.request { return sum + cost(p) }
                return sum
            }
        }
        return max(branch(txn.success), branch(txn.failure))
    }
}

/// The alarm layer of the apply chain (etcd's applierV3Capped,
/// applierV3Corrupt and the Alarm apply): applies Alarm entries to the
/// `AlarmStore`; while CORRUPT is active answers every KV and lease write
/// with `etcdserver: corrupt cluster`, and while NOSPACE is active answers
/// Put, LeaseGrant and Txns with puts with `etcdserver: mvcc: database
/// space exceeded`, without applying them.
/// Everything else goes to the KV applier unchanged, in one batch, in order.
final class AlarmApplier: CommittedEntryApplier {
    private let inner: CommittedEntryApplier
    private let alarms: AlarmStore
    private let store: MVCCStore
    private let waits: WaitRegistry<AppliedResult>
    private let logger: Logger

    init(inner: CommittedEntryApplier, alarms: AlarmStore, store: MVCCStore, waits: WaitRegistry<AppliedResult>,
         logger: Logger) {
        self.inner = inner
        self.alarms = alarms
        self.store = store
        self.waits = waits
        self.logger = logger
    }

    func apply(_ entries: [Entry], term: UInt64) {
        var out = entries
        var capped = alarms.hasNoSpace, corrupt = alarms.hasCorrupt
        for (i, entry) in entries.enumerated() where entry.type == .normal && !entry.data.isEmpty {
            guard let fields = RaftRequestPeek.fields(entry.data) else { continue }
            if fields.contains(RaftRequestPeek.alarm) {
                applyAlarm(entry, term: term)
                capped = alarms.hasNoSpace
                corrupt = alarms.hasCorrupt
                out[i].data = []  // the store records the index as a no-op
            } else if corrupt && !fields.isDisjoint(with: RaftRequestPeek.refusedWhenCorrupt) {
                refuse(entry, Self.corruptCluster, term: term)
                out[i].data = []
            } else if capped && isCappedWrite(entry, fields) {
                refuse(entry, KVError.noSpace, term: term)
                out[i].data = []
            }
        }
        inner.apply(out, term: term)
    }

    /// etcd's ErrCorrupt (gRPC DATA_LOSS).
    static let corruptCluster = KVError(.dataLoss, "etcdserver: corrupt cluster")

    private func refuse(_ entry: Entry, _ error: KVError, term: UInt64) {
        if let id = Self.requestID(entry) {
            waits.trigger(id: id, .success(AppliedResult(response: .failure(error), term: term)))
        }
    }

    private func isCappedWrite(_ entry: Entry, _ fields: Set<Int>) -> Bool {
        if fields.contains(RaftRequestPeek.put) || fields.contains(RaftRequestPeek.leaseGrant) { return true }
        guard fields.contains(RaftRequestPeek.txn),
              let request = try? entry.data.withUnsafeBytes({ try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }),
              let txn = request.txn else { return false }
        return MaintenanceState.cost(txn) > 0
    }

    private func applyAlarm(_ entry: Entry, term: UInt64) {
        guard let request = try? entry.data.withUnsafeBytes({ try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }),
              let alarm = request.alarm else { return }
        switch alarm.action {
        case .activate:
            if alarms.activate(memberID: alarm.memberID, type: alarm.alarm) != nil {
                logger.warning("alarm raised", metadata: ["alarm": "\(AlarmStore.describe(Self.member(alarm)))"])
            }
        case .deactivate:
            if alarms.deactivate(memberID: alarm.memberID, type: alarm.alarm) != nil {
                logger.warning("alarm disarmed", metadata: ["alarm": "\(AlarmStore.describe(Self.member(alarm)))"])
            }
        default:
            break
        }
        if request.id != 0 {
            waits.trigger(id: request.id, .success(AppliedResult(response: .success(.noop(revision: store.currentRevision)), term: term)))
        }
    }

    private static func member(_ r: Etcdserverpb.AlarmRequest) -> Etcdserverpb.AlarmMember {
        var m = Etcdserverpb.AlarmMember()
        m.memberID = r.memberID
        m.alarm = r.alarm
        return m
    }

    private static func requestID(_ entry: Entry) -> UInt64? {
        (try? entry.data.withUnsafeBytes { try Swiftetcd.InternalRaftRequest(serializedBytes: $0) })?.id
    }
}
