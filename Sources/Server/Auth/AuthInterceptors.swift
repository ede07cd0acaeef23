import Auth
import GRPCWire
import MVCC
import Proto

/// The RPC-level auth checks, in one table (etcd spreads them over
/// authMaintenanceServer, checkMembershipOperationPermission and
/// LeaseTimeToLive). Checks that depend on a request's keys live where the
/// keys are read: KV reads in KVService (`authorizedRead`), writes at apply
/// (`AuthApplyStage`), watches when created (WatchService).
///
/// While auth is disabled and no token is sent none of this costs more
/// than a flag read (a token is still checked then, as etcd does).
enum AuthInterceptors {
    enum Rule {
        /// Root only, answered with the gRPC mapping ("etcdserver: permission denied").
        case admin
        /// Root only, answered as etcd's Maintenance service does: the auth
        /// package's error unmapped ("auth: permission denied", gRPC Unknown).
        case adminUnmapped
        /// Alarm: disarming is root only; listing and raising stay open.
        case alarmDisarm
        /// LeaseTimeToLive asking for keys: read on every key of the lease.
        case leaseKeys
    }

    static let rules: [String: Rule] = {
        typealias M = Etcdserverpb.MaintenanceService
        typealias C = Etcdserverpb.ClusterService
        var r: [String: Rule] = [
            // etcd 3.5.1 lets any user compact and move the leader; the
            // issue asks for root, as for the other maintenance operations.
            Etcdserverpb.KVService.compact.path: .admin,
            M.moveLeader.path: .adminUnmapped,
            M.defragment.path: .adminUnmapped,
            M.snapshot.path: .adminUnmapped,
            M.hash.path: .adminUnmapped,
            M.hashKV.path: .adminUnmapped,
            M.alarm.path: .alarmDisarm,
            Etcdserverpb.LeaseService.leaseTimeToLive.path: .leaseKeys,
        ]
        for path in [C.memberAdd.path, C.memberRemove.path, C.memberUpdate.path, C.memberPromote.path] { r[path] = .admin }
        return r
    }()

    /// Wraps the handlers the table names; call after every service registered.
    static func wrapAll(_ router: GRPCRouter, server: EtcdServer) {
        for (path, rule) in rules {
            switch router.handler(for: path) {
            case .unary(let h)?:
                router.unary(path) { bytes, context in
                    try await check(rule, bytes, server)
                    return try await h(bytes, context)
                }
            case .serverStreaming(let h)?:
                router.serverStreaming(path) { bytes, context, writer in
                    try await check(rule, bytes, server)
                    try await h(bytes, context, writer)
                }
            case .bidi, nil:
                break
            }
        }
    }

    /// Throws the gRPC status to answer with (the wrapped handlers are the
    /// raw byte-level ones, below the typed error mapping).
    static func check(_ rule: Rule, _ bytes: [UInt8], _ server: EtcdServer) async throws {
        do { try await checkRule(rule, bytes, server) } catch { throw grpcStatus(for: error) }
    }

    private static func checkRule(_ rule: Rule, _ bytes: [UInt8], _ server: EtcdServer) async throws {
        switch rule {
        case .admin:
            try await server.requireAdmin()
        case .adminUnmapped:
            try await server.requireAdmin(unmapped: true)
        case .alarmDisarm:
            guard server.auth.snapshot.enabled, let r = try? bytes.withUnsafeBytes({ try Etcdserverpb.AlarmRequest(serializedBytes: $0) }),
                  r.action == .deactivate else { return }
            try await server.requireAdmin(unmapped: true)
        case .leaseKeys:
            guard server.auth.snapshot.enabled, let r = try? bytes.withUnsafeBytes({ try Etcdserverpb.LeaseTimeToLiveRequest(serializedBytes: $0) }),
                  r.keys else { return }
            let info: AuthInfo?
            do { info = try await server.requestIdentity() } catch { throw error.status }
            let snap = server.auth.snapshot
            guard let info else { throw AuthFailure.userEmpty.status }
            for key in server.lessor.keysToRevoke(r.id) ?? [] {
                if let f = snap.check(info, .read, key: key) { throw f.status }
            }
        }
    }
}
