import Auth
import GRPCWire
import MVCC
import Proto

/// The services' `RequestAccess` with auth: resolves who sends a request
/// (the `token` metadata, or `authorization` from the JSON gateway; else,
/// with `--client-cert-auth`, the verified client certificate's CN) and checks what the
/// request is about to do, with etcd 3.5's answers:
///
/// - reads (Range, read-only Txn): read on every key, as etcd's doSerialize
///   (`confirm` afterwards fails a read whose auth revision moved meanwhile);
/// - writes (Put, DeleteRange, Txn, LeaseRevoke): checked here so a denied
///   write costs no Raft round, and again at apply with the identity this
///   returns (`AuthApplyStage`: the authoritative check, at the entry's log
///   position);
/// - `.admin`: the root role; Maintenance answers with the auth package's
///   own error as etcd does ("auth: permission denied", gRPC Unknown);
/// - `.open`: nothing to check, but where etcd resolves the caller anyway
///   (requests it proposes through Raft: LeaseGrant, Alarm, the Auth RPCs)
///   a bad token fails, and the identity goes into the proposal.
///
/// A token is resolved even while auth is off (etcd 3.5 then answers
/// `invalid auth token`); with auth off and no token nothing is done.
struct AuthAccess: RequestAccess {
    let auth: AuthStore
    /// The member's applied index, and a barrier that catches up with the
    /// leader's commit index (a simple token from an entry not applied here yet).
    let appliedIndex: @Sendable () -> UInt64
    let barrier: @Sendable () async throws -> Void
    /// The keys a lease holds (the lessor's view).
    let leaseKeys: @Sendable (Int64) -> [[UInt8]]

    init(auth: AuthStore, appliedIndex: @escaping @Sendable () -> UInt64, barrier: @escaping @Sendable () async throws -> Void,
         leaseKeys: @escaping @Sendable (Int64) -> [[UInt8]]) {
        self.auth = auth
        self.appliedIndex = appliedIndex
        self.barrier = barrier
        self.leaseKeys = leaseKeys
    }

    init(member: EtcdServer) {
        let loop = member.loop, lessor = member.lessor
        self.init(auth: member.auth, appliedIndex: { loop.status.appliedIndex },
                  barrier: { [weak member] in try await member?.linearizableBarrier() },
                  leaseKeys: { lessor.keysToRevoke($0) ?? [] })
    }

    /// Maintenance RPCs answer a failed root check unmapped (etcd's authMaintenanceServer).
    static let unmappedPaths: Set<String> = {
        typealias M = Etcdserverpb.MaintenanceService
        return [M.defragment.path, M.snapshot.path, M.hash.path, M.hashKV.path, M.moveLeader.path, M.alarm.path, M.downgrade.path]
    }()

    /// `.open` RPCs for which etcd still resolves the caller: those it
    /// proposes through Raft with the caller's identity.
    static let identifiedOpenPaths: Set<String> = {
        var paths: Set<String> = [Etcdserverpb.LeaseService.leaseGrant.path, Etcdserverpb.MaintenanceService.alarm.path]
        for method in Etcdserverpb.AuthService.descriptor.methods { paths.insert(method.path) }
        return paths
    }()

    func check(_ action: RequestAction, _ context: GRPCRequestContext) async throws -> RequestIdentity? {
        let token = Self.token(context)
        let snap = auth.snapshot
        guard snap.enabled || token != nil else { return nil }
        var unmapped = false
        if case .admin = action { unmapped = Self.unmappedPaths.contains(context.path) }
        do {
            if case .open = action, !Self.identifiedOpenPaths.contains(context.path) { return nil }
            let info = try await identity(token: token, context)
            if let failure = permission(action, info, auth.snapshot, context.path) { throw failure }
            return info.map { RequestIdentity(username: $0.username, authRevision: $0.revision) }
        } catch let failure as AuthFailure {
            throw unmapped ? failure.unmapped : failure.status
        }
    }

    /// `check`'s first exit: auth off and no token answer nil at once.
    func isAnonymousWithoutWaiting(_ context: GRPCRequestContext) -> Bool {
        !auth.snapshot.enabled && Self.token(context) == nil
    }

    /// etcd's doSerialize, after the read: the auth store must still be at
    /// the revision the read was allowed at.
    func confirm(_ identity: RequestIdentity?) throws {
        guard let identity, identity.authRevision != 0, identity.authRevision != auth.snapshot.revision else { return }
        throw AuthFailure.authOldRevision.status
    }

    private func permission(_ action: RequestAction, _ info: AuthInfo?, _ snap: AuthSnapshot, _ path: String) -> AuthFailure? {
        switch action {
        case .open:
            return nil
        case .read(let key, let rangeEnd):
            return snap.check(info, .read, key: key, rangeEnd: rangeEnd)
        case .write(let key, let rangeEnd, let alsoReads):
            if let f = snap.check(info, .write, key: key, rangeEnd: rangeEnd) { return f }
            return alsoReads ? snap.check(info, .read, key: key, rangeEnd: rangeEnd) : nil
        case .txn(let request):
            return snap.check(info, txn: KVMapping.txn(request))
        case .lease(let id):
            // TimeToLive with keys lists them: read on each (as etcd 3.5.5+);
            // a revoke deletes them: write on each (etcd's checkLeasePuts).
            if path == Etcdserverpb.LeaseService.leaseTimeToLive.path {
                guard snap.enabled else { return nil }
                guard info != nil else { return .userEmpty }
                return leaseKeys(id).lazy.compactMap { snap.check(info, .read, key: $0) }.first
            }
            return snap.checkLeaseKeys(info, id, leaseKeys)
        case .admin:
            return snap.checkAdmin(info)
        }
    }

    /// The request's token: `token` metadata, else `authorization` (etcd's
    /// TokenFieldNameGRPC and TokenFieldNameSwagger).
    static func token(_ context: GRPCRequestContext) -> String? {
        context.header("token") ?? context.header("authorization")
    }

    /// etcd's AuthInfoFromCtx, then AuthInfoFromTLS when there is no token.
    private func identity(token: String?, _ context: GRPCRequestContext) async throws(AuthFailure) -> AuthInfo? {
        if let token {
            do {
                return try await auth.identity(token: token, appliedIndex: appliedIndex()) { _ in try? await barrier() }
            } catch let f as AuthFailure {
                throw f
            } catch {
                throw .other("\(error)")
            }
        }
        // A verified client certificate's Common Name is the user when there
        // is no token (etcd's AuthInfoFromTLS, with --client-cert-auth).
        guard let cn = Self.commonName(context), auth.snapshot.enabled else { return nil }
        return AuthInfo(username: cn, revision: auth.snapshot.revision)
    }

    /// The client certificate's CN, when the connection has a verified one
    /// (TLS announces it only with `--client-cert-auth`). As etcd, never for a
    /// gateway call carrying the HTTP client's Accept header
    /// (`grpcgateway-accept`): there the certificate is the gateway's own.
    static func commonName(_ context: GRPCRequestContext) -> String? {
        guard context.header("grpcgateway-accept") == nil else { return nil }
        return context.verifiedClientCertCommonName
    }
}
