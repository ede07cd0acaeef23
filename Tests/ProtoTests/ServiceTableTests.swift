import Testing
import Proto

@Suite struct ServiceTableTests {
    @Test func pathsAndKinds() {
        #expect(Etcdserverpb.KVService.range.path == "/etcdserverpb.KV/Range")
        #expect(Etcdserverpb.KVService.range.kind == .unary)
        #expect(Etcdserverpb.WatchService.watch.kind == .bidirectional)
        #expect(Etcdserverpb.LeaseService.leaseKeepAlive.kind == .bidirectional)
        #expect(Etcdserverpb.MaintenanceService.snapshot.kind == .serverStreaming)
        #expect(Etcdserverpb.MaintenanceService.status.path == "/etcdserverpb.Maintenance/Status")
        #expect(V3electionpb.ElectionService.observe.kind == .serverStreaming)
        #expect(GrpcHealthV1.HealthService.check.path == "/grpc.health.v1.Health/Check")
        #expect(V3lockpb.LockService.lock.path == "/v3lockpb.Lock/Lock")
    }

    @Test func everyServiceIsListed() {
        let names = ProtoServices.all.map(\.name)
        #expect(names.sorted() == [
            "etcdserverpb.Auth", "etcdserverpb.Cluster", "etcdserverpb.KV", "etcdserverpb.Lease",
            "etcdserverpb.Maintenance", "etcdserverpb.Watch", "grpc.health.v1.Health",
            "v3electionpb.Election", "v3lockpb.Lock",
        ])
        let paths = ProtoServices.all.flatMap { $0.methods.map(\.path) }
        #expect(Set(paths).count == paths.count)
        #expect(paths.count == 5 + 1 + 5 + 5 + 8 + 17 + 2 + 5 + 2)
        let status = ProtoServices.all.flatMap(\.methods).first { $0.path == "/etcdserverpb.Maintenance/Status" }
        #expect(status?.requestType == Etcdserverpb.StatusRequest.self)
        #expect(status?.responseType == Etcdserverpb.StatusResponse.self)
    }

    @Test func messageTypesByName() {
        #expect(ProtoMessageTypes.byName["etcdserverpb.RangeRequest"] == Etcdserverpb.RangeRequest.self)
        #expect(ProtoMessageTypes.byName["grpc.health.v1.HealthCheckRequest"] == GrpcHealthV1.HealthCheckRequest.self)
        #expect(ProtoMessageTypes.byName["swiftetcd.InternalRaftRequest"] == Swiftetcd.InternalRaftRequest.self)
    }
}
