import Config
import GRPCWire
import Proto

/// `Maintenance.Downgrade` as etcd 3.5: VALIDATE checks the target (only
/// one minor below the cluster version) against the applied state after a
/// linearizable barrier; ENABLE validates, then sets the downgrade state
/// through Raft; CANCEL clears it. The state changes nothing else while the
/// cluster runs: etcd 3.5.1 lowers the cluster version only once every
/// member runs the target release (its monitor takes the lowest member
/// version), which never happens here (no member of an older release joins
/// ours), so the cluster version and /version stay as they are, as etcd
/// 3.5.1's do with only 3.5 members (checked: still "3.5.0" seconds after
/// ENABLE). A member restarted while it is enabled refuses to start, as
/// etcd's does.
///
/// Differs from etcd 3.5.1 on purpose: its ENABLE and CANCEL apply the change
/// but never answer (the proposer waits until its deadline, then gets a
/// timeout); ours answers once the change is applied.
extension MaintenanceService {
    static let wrongDowngradeVersionFormat = GRPCStatus(.invalidArgument, "etcdserver: wrong downgrade target version format")
    static let invalidDowngradeTargetVersion = GRPCStatus(.invalidArgument, "etcdserver: invalid downgrade target version")
    static let downgradeInProcess = GRPCStatus(.failedPrecondition, "etcdserver: cluster has a downgrade job in progress")
    static let noInflightDowngrade = GRPCStatus(.failedPrecondition, "etcdserver: no inflight downgrade job")
    static let clusterVersionUnavailable = GRPCStatus(.unavailable, "etcdserver: cluster version not found during downgrade")

    func registerDowngrade(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.MaintenanceService.downgrade) { request, context in
            let identity = try await access.check(.admin, context)
            switch request.action {
            case .validate:
                _ = try await Self.validateDowngrade(request.version, backend)
            case .enable:
                let target = try await Self.validateDowngrade(request.version, backend)
                try await Self.setDowngrade(DowngradeInfo(enabled: true, targetVersion: target.versionString), backend, identity)
            case .cancel:
                try await backend.linearizableBarrier()
                guard try DowngradeInfo.load(from: backend.store).enabled else { throw Self.noInflightDowngrade }
                try await Self.setDowngrade(DowngradeInfo(enabled: false, targetVersion: ""), backend, identity)
            default:
                throw GRPCStatus(.unknown, "etcdserver: unknown method")
            }
            var response = Etcdserverpb.DowngradeResponse()
            response.header = backend.header(revision: backend.store.currentRevision, term: backend.status.term)
            response.version = ClusterVersion.load(from: backend.store) ?? SwiftEtcdVersion.cluster
            return response
        }
    }

    /// etcd's downgradeValidate: the target's format first, then (on the
    /// applied state after a barrier) the allowed version, then no job running.
    private static func validateDowngrade(_ version: String, _ backend: MaintenanceBackend) async throws -> DowngradeTarget {
        guard let target = DowngradeTarget(parsing: version) else { throw wrongDowngradeVersionFormat }
        try await backend.linearizableBarrier()
        guard let decided = ClusterVersion.load(from: backend.store) else { throw clusterVersionUnavailable }
        guard let cluster = DowngradeTarget(parsing: decided),
              target == DowngradeTarget.allowed(from: cluster) else { throw invalidDowngradeTargetVersion }
        if try DowngradeInfo.load(from: backend.store).enabled { throw downgradeInProcess }
        return target
    }

    private static func setDowngrade(_ info: DowngradeInfo, _ backend: MaintenanceBackend, _ identity: RequestIdentity?) async throws {
        var proposal = Swiftetcd.InternalRaftRequest()
        var set = Swiftetcd.DowngradeInfoSetRequest()
        set.enabled = info.enabled
        set.ver = info.targetVersion
        proposal.downgradeInfoSet = set
        let applied = try await backend.propose(proposal, as: identity)
        _ = try applied.response.get()
    }
}
