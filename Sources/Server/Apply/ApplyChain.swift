import MVCC

/// One stage of the apply chain in front of the backend (etcd's applierV3
/// decorators): looks at a decoded committed entry, in log order, and either
/// lets it through or refuses it with the error its proposer gets. A refused
/// entry is recorded as applied (a no-op) so every member stays in step.
///
/// Guards run on the apply thread, on every member, for every entry:
/// they must be deterministic (the same log gives the same answers
/// everywhere) and cheap (no I/O, no store reads).
protocol ApplyGuard: AnyObject {
    /// nil to pass `entry` on; else the error its proposer is answered with.
    func refusal(for entry: ApplyEntry) -> ServerError?
    /// True when the guard must see every earlier entry applied (not just
    /// queued in the backend's run) to judge `entry`, e.g. a lease's keys.
    func needsSettledState(_ entry: ApplyEntry) -> Bool
}

extension ApplyGuard {
    func needsSettledState(_ entry: ApplyEntry) -> Bool { false }
}

/// The ordered chain every committed entry goes through, as etcd orders its
/// appliers: corruption guard → capped (NOSPACE) → auth → backend. The
/// first refusal wins.
///
/// The auth stage (`AuthApplyStage`, etcd's authApplierV3) reads the
/// proposer's user name and auth revision from `entry.message.header` and
/// refuses with etcd's `permission denied` / `revision of auth store is
/// old`. It runs after the alarm guards, so a corrupt or full cluster
/// answers with the alarm's error whoever asks.
struct ApplyChain {
    let corruption: CorruptionGuard
    let capped: CappedGuard
    /// The auth stage; nil in harnesses that apply without auth.
    var auth: ApplyGuard?

    func needsSettledState(_ entry: ApplyEntry) -> Bool { auth?.needsSettledState(entry) ?? false }

    func refusal(for entry: ApplyEntry) -> ServerError? {
        if case .undecodable(let error) = entry.request { return error }
        if let error = corruption.refusal(for: entry) { return error }
        if let error = capped.refusal(for: entry) { return error }
        if let auth, let error = auth.refusal(for: entry) { return error }
        return nil
    }
}

/// etcd's applierV3Corrupt: while a CORRUPT alarm is active every KV and
/// lease request is refused with `etcdserver: corrupt cluster`
/// (checkpoints and alarms still apply, so the alarm can be disarmed).
final class CorruptionGuard: ApplyGuard {
    private let alarms: AlarmStore

    init(alarms: AlarmStore) { self.alarms = alarms }

    /// etcd's ErrCorrupt (gRPC DATA_LOSS).
    static let corruptCluster = ServerError(code: .dataLoss, message: "etcdserver: corrupt cluster")

    func refusal(for entry: ApplyEntry) -> ServerError? {
        switch entry.request {
        case .write, .leaseGrant, .leaseRevoke, .range:
            return alarms.hasCorrupt ? Self.corruptCluster : nil
        case .noop, .leaseCheckpoint, .alarm, .auth, .downgrade, .memberAttributes, .clusterVersion, .unknown, .undecodable:
            return nil
        }
    }
}

/// etcd's applierV3Capped: while a NOSPACE alarm is active, Put, LeaseGrant
/// and a Txn with puts are refused with `mvcc: database space exceeded`;
/// deletes and compactions still apply, so space can be won back.
final class CappedGuard: ApplyGuard {
    private let alarms: AlarmStore

    init(alarms: AlarmStore) { self.alarms = alarms }

    func refusal(for entry: ApplyEntry) -> ServerError? {
        switch entry.request {
        case .write(.put), .leaseGrant:
            return alarms.hasNoSpace ? ServerError.noSpace : nil
        case .write(.txn):
            guard alarms.hasNoSpace, let txn = entry.message.txn else { return nil }
            return BackendQuota.cost(txn) > 0 ? ServerError.noSpace : nil
        default:
            return nil
        }
    }
}
