import GRPCWire
import Proto

/// etcdserverpb.Maintenance: Status here; Snapshot, Hash/HashKV, Defragment
/// and Alarm in `MaintenanceService+*.swift`.
struct MaintenanceService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        router.unary(Etcdserverpb.MaintenanceService.status) { _, _ in
            let status = server.loop.status
            var response = Etcdserverpb.StatusResponse()
            response.header = server.header(revision: server.store.currentRevision, term: status.term)
            response.version = EtcdVersion.server
            response.dbSize = server.store.dbSizeBytes
            response.dbSizeInUse = server.store.dbSizeInUseBytes
            response.leader = status.leader
            response.raftIndex = status.commitIndex
            response.raftTerm = status.term
            response.raftAppliedIndex = status.appliedIndex
            response.isLearner = false
            if status.leader == 0 { response.errors.append("etcdserver: no leader") }
            response.errors += server.maintenance.alarms.get(.none).map(AlarmStore.describe)
            return response
        }
        registerSnapshot(on: router)
        registerHash(on: router)
        registerDefragment(on: router)
        registerAlarm(on: router)
    }
}

/// grpc.health.v1.Health: SERVING while the member knows a leader.
struct HealthService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        router.unary(GrpcHealthV1.HealthService.check) { _, _ in
            var response = GrpcHealthV1.HealthCheckResponse()
            response.status = server.loop.status.leader != 0 && server.defragHealth.isServing ? .serving : .notServing
            return response
        }
    }
}

/// The versions we report: the etcd API level we implement.
public enum EtcdVersion {
    public static let server = "3.5.0"
    public static let cluster = "3.5.0"
    public static let swiftEtcd = "0.1.0"
}
