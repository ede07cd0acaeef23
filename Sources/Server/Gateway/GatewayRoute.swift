import Proto

/// One gateway path: the gRPC method it calls and how its messages turn
/// into JSON and back. Built from the generated `ProtoMethod`, so the types
/// on both sides are the method's own.
struct GatewayRoute: Sendable {
    let grpcPath: String
    /// JSON request (nil: empty body) → protobuf request bytes.
    let encodeRequest: @Sendable (JSONValue?) throws(ProtoJSONError) -> [UInt8]
    /// Protobuf response bytes → JSON text of the response message.
    let responseJSON: @Sendable ([UInt8]) throws -> [UInt8]
    /// For bidi methods: keep the request side open after the body's messages,
    /// until the HTTP client goes away. etcd's Watch keeps watching when the
    /// client half-closes; LeaseKeepAlive ends, so it closes after the body.
    let keepsRequestsOpen: Bool

    init<Request: ProtoJSONMessage, Response: ProtoJSONMessage>(
        _ method: ProtoMethod<Request, Response>, keepsRequestsOpen: Bool = false
    ) {
        grpcPath = method.path
        encodeRequest = { (json: JSONValue?) throws(ProtoJSONError) -> [UInt8] in
            guard let json else { return Request().serializedBytes() }
            return try Request(json: json).serializedBytes()
        }
        responseJSON = { bytes in try Response(serializedBytes: bytes).jsonBytes() }
        self.keepsRequestsOpen = keepsRequestsOpen
    }
}

/// The `google.api.http` annotations of etcd 3.5's protos: every gateway path
/// is a POST with the request message as the body.
enum GatewayRoutes {
    typealias KV = Etcdserverpb.KVService
    typealias Lease = Etcdserverpb.LeaseService
    typealias Cluster = Etcdserverpb.ClusterService
    typealias Maintenance = Etcdserverpb.MaintenanceService
    typealias Auth = Etcdserverpb.AuthService

    static let table: [String: GatewayRoute] = [
        "/v3/kv/range": GatewayRoute(KV.range),
        "/v3/kv/put": GatewayRoute(KV.put),
        "/v3/kv/deleterange": GatewayRoute(KV.deleteRange),
        "/v3/kv/txn": GatewayRoute(KV.txn),
        "/v3/kv/compaction": GatewayRoute(KV.compact),

        "/v3/watch": GatewayRoute(Etcdserverpb.WatchService.watch, keepsRequestsOpen: true),

        "/v3/lease/grant": GatewayRoute(Lease.leaseGrant),
        "/v3/lease/revoke": GatewayRoute(Lease.leaseRevoke),
        "/v3/kv/lease/revoke": GatewayRoute(Lease.leaseRevoke),
        "/v3/lease/keepalive": GatewayRoute(Lease.leaseKeepAlive),
        "/v3/lease/timetolive": GatewayRoute(Lease.leaseTimeToLive),
        "/v3/kv/lease/timetolive": GatewayRoute(Lease.leaseTimeToLive),
        "/v3/lease/leases": GatewayRoute(Lease.leaseLeases),
        "/v3/kv/lease/leases": GatewayRoute(Lease.leaseLeases),

        "/v3/cluster/member/add": GatewayRoute(Cluster.memberAdd),
        "/v3/cluster/member/remove": GatewayRoute(Cluster.memberRemove),
        "/v3/cluster/member/update": GatewayRoute(Cluster.memberUpdate),
        "/v3/cluster/member/list": GatewayRoute(Cluster.memberList),
        "/v3/cluster/member/promote": GatewayRoute(Cluster.memberPromote),

        "/v3/maintenance/alarm": GatewayRoute(Maintenance.alarm),
        "/v3/maintenance/status": GatewayRoute(Maintenance.status),
        "/v3/maintenance/defragment": GatewayRoute(Maintenance.defragment),
        // etcd's protos give Hash and HashKV the same path; Hash answers it.
        "/v3/maintenance/hash": GatewayRoute(Maintenance.hash),
        "/v3/maintenance/snapshot": GatewayRoute(Maintenance.snapshot),
        "/v3/maintenance/transfer-leadership": GatewayRoute(Maintenance.moveLeader),
        "/v3/maintenance/downgrade": GatewayRoute(Maintenance.downgrade),

        "/v3/auth/enable": GatewayRoute(Auth.authEnable),
        "/v3/auth/disable": GatewayRoute(Auth.authDisable),
        "/v3/auth/status": GatewayRoute(Auth.authStatus),
        "/v3/auth/authenticate": GatewayRoute(Auth.authenticate),
        "/v3/auth/user/add": GatewayRoute(Auth.userAdd),
        "/v3/auth/user/get": GatewayRoute(Auth.userGet),
        "/v3/auth/user/list": GatewayRoute(Auth.userList),
        "/v3/auth/user/delete": GatewayRoute(Auth.userDelete),
        "/v3/auth/user/changepw": GatewayRoute(Auth.userChangePassword),
        "/v3/auth/user/grant": GatewayRoute(Auth.userGrantRole),
        "/v3/auth/user/revoke": GatewayRoute(Auth.userRevokeRole),
        "/v3/auth/role/add": GatewayRoute(Auth.roleAdd),
        "/v3/auth/role/get": GatewayRoute(Auth.roleGet),
        "/v3/auth/role/list": GatewayRoute(Auth.roleList),
        "/v3/auth/role/delete": GatewayRoute(Auth.roleDelete),
        "/v3/auth/role/grant": GatewayRoute(Auth.roleGrantPermission),
        "/v3/auth/role/revoke": GatewayRoute(Auth.roleRevokePermission),

        "/v3/lock/lock": GatewayRoute(V3lockpb.LockService.lock),
        "/v3/lock/unlock": GatewayRoute(V3lockpb.LockService.unlock),

        "/v3/election/campaign": GatewayRoute(V3electionpb.ElectionService.campaign),
        "/v3/election/proclaim": GatewayRoute(V3electionpb.ElectionService.proclaim),
        "/v3/election/leader": GatewayRoute(V3electionpb.ElectionService.leader),
        "/v3/election/observe": GatewayRoute(V3electionpb.ElectionService.observe),
        "/v3/election/resign": GatewayRoute(V3electionpb.ElectionService.resign),
    ]
}
