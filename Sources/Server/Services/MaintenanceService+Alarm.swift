import GRPCWire
import MVCC
import Proto

/// `Maintenance.Alarm`: GET, ACTIVATE and DEACTIVATE go through Raft (as in
/// etcd) and are applied by `ApplyBackend`; the answer lists the alarms
/// matching the request (GET) or the one that changed.
extension MaintenanceService {
    func registerAlarm(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.MaintenanceService.alarm) { request, context in
            let identity = try await access.check(request.action == .deactivate ? .admin : .open, context)
            let alarms = backend.alarms
            let wasActive = alarms.get(request.alarm).contains { $0.memberID == request.memberID }
            var proposal = Swiftetcd.InternalRaftRequest()
            proposal.alarm = request
            let applied = try await backend.propose(proposal, as: identity)
            let result = try applied.response.get()
            var response = Etcdserverpb.AlarmResponse()
            response.header = backend.header(revision: result.revision, term: applied.term)
            let now = alarms.get(request.alarm).filter { $0.memberID == request.memberID }
            switch request.action {
            case .get:
                response.alarms = alarms.get(request.alarm)
            case .activate:
                response.alarms = wasActive ? [] : now
            case .deactivate:
                if wasActive && now.isEmpty {
                    var m = Etcdserverpb.AlarmMember()
                    m.memberID = request.memberID
                    m.alarm = request.alarm
                    response.alarms = [m]
                }
            default:
                throw GRPCStatus(.invalidArgument, "etcdserver: unknown alarm action")
            }
            return response
        }
    }
}

/// etcd's quotaKVServer/quotaLeaseServer: before a Put, a Txn with puts or
/// a LeaseGrant is proposed, checks that it fits in the backend quota; if
/// not, raises the NOSPACE alarm (through Raft, so every member turns
/// read-mostly) and answers `etcdserver: mvcc: database space exceeded`.
/// Installed around the handlers already registered, so the KV and Lease
/// services need not know about quotas.
struct QuotaGuard {
    let backend: MaintenanceBackend

    func install(on router: GRPCRouter) {
        guard !backend.quota.isDisabled else { return }
        wrap(router, Etcdserverpb.KVService.put.path) { bytes in
            // Over-estimates etcd's cost (key + value + 256) by the few bytes of framing.
            BackendQuota.kvOverheadBytes + bytes.count
        }
        wrap(router, Etcdserverpb.KVService.txn.path) { bytes in
            let txn = try? bytes.withUnsafeBytes { try Etcdserverpb.TxnRequest(serializedBytes: $0) }
            return txn.map { BackendQuota.cost($0) } ?? 0
        }
        wrap(router, "/etcdserverpb.Lease/LeaseGrant") { _ in BackendQuota.leaseOverheadBytes }
    }

    private func wrap(_ router: GRPCRouter, _ path: String, cost: @escaping @Sendable ([UInt8]) -> Int) {
        guard case .unary(let handler)? = router.handler(for: path) else { return }
        let callback = router.callbackHandler(for: path)
        let backend = self.backend
        @Sendable func fits(_ bytes: [UInt8]) -> Bool {
            let quota = backend.quota
            let size = backend.store.dbSizeBytes
            // Fast path: far from the quota, no need to look inside.
            return size + Int64(bytes.count + BackendQuota.kvOverheadBytes) < quota.bytes
                || quota.available(costBytes: cost(bytes), dbSizeBytes: size)
        }
        router.unary(path) { bytes, context in
            if !fits(bytes) {
                await backend.raiseNoSpaceAlarm()
                throw grpcStatus(for: ServerError.noSpace)
            }
            return try await handler(bytes, context)
        }
        guard let callback else { return }
        // Over the quota, the async handler raises the alarm and refuses.
        router.unaryCallback(path) { bytes, context, reply in
            guard fits(bytes) else { return false }
            return try callback(bytes, context, reply)
        }
    }
}

extension EtcdServer {
    /// Proposes NOSPACE for this member unless it is already raised; errors
    /// are ignored (the write is refused either way), as etcd does.
    func raiseNoSpaceAlarm() async {
        if alarms.hasNoSpace { return }
        logger.warning("backend quota exceeded; raising NOSPACE alarm", metadata: [
            "quota-bytes": "\(quota.bytes)", "db-size-bytes": "\(store.dbSizeBytes)",
        ])
        _ = try? await proposeAlarm(.nospace, memberID: memberID)
    }

    /// Activates `type` for `memberID` through Raft (every member applies it).
    func proposeAlarm(_ type: Etcdserverpb.AlarmType, memberID: UInt64) async throws {
        var request = Etcdserverpb.AlarmRequest()
        request.action = .activate
        request.memberID = memberID
        request.alarm = type
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.alarm = request
        _ = try await propose(proposal, as: nil)
    }
}
