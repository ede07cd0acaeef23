import Config
import GRPCWire
import Proto

/// etcdserverpb.Maintenance: Status here; Snapshot, Hash/HashKV, Defragment
/// and Alarm in `MaintenanceService+*.swift`.
struct MaintenanceService {
    let backend: MaintenanceBackend
    let access: RequestAccess

    func register(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.MaintenanceService.status) { _, context in
            _ = try await access.check(.open, context)
            let status = backend.status
            var response = Etcdserverpb.StatusResponse()
            response.header = backend.header(revision: backend.store.currentRevision, term: status.term)
            response.version = SwiftEtcdVersion.etcdCompatible
            response.dbSize = backend.store.dbSizeBytes
            response.dbSizeInUse = backend.store.dbSizeInUseBytes
            response.leader = status.leader
            response.raftIndex = status.commitIndex
            response.raftTerm = status.term
            response.raftAppliedIndex = status.appliedIndex
            response.isLearner = false
            if status.leader == 0 { response.errors.append("etcdserver: no leader") }
            response.errors += backend.alarms.get(.none).map(AlarmStore.describe)
            return response
        }
        registerSnapshot(on: router)
        registerHash(on: router)
        registerDefragment(on: router)
        registerAlarm(on: router)
        registerDowngrade(on: router)
    }
}

/// grpc.health.v1.Health: SERVING while the member knows a leader.
struct HealthService {
    let backend: MaintenanceBackend
    let access: RequestAccess

    func register(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(GrpcHealthV1.HealthService.check) { _, context in
            _ = try await access.check(.open, context)
            var response = GrpcHealthV1.HealthCheckResponse()
            response.status = backend.status.leader != 0 && backend.defragHealth.isServing ? .serving : .notServing
            return response
        }
    }
}
