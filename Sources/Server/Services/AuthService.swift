import Auth
import GRPCWire
import Proto

/// What the Auth service needs from the member: Raft proposals answered
/// with the auth store's result, a linearizable barrier, the auth store.
protocol AuthBackend: ResponseHeaders {
    var auth: AuthStore { get }
    func propose(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?) async throws -> AppliedResult
    func linearizableBarrier() async throws
}

/// etcdserverpb.Auth (etcd 3.5's v3rpc/auth.go and v3_server.go): every
/// operation goes through Raft with the caller's identity and is applied by
/// `AuthApplyStage` on every member, which checks the caller's rights there.
/// Passwords are hashed here, off the event loops, so only bcrypt hashes
/// enter the log.
struct AuthService {
    let backend: AuthBackend
    let access: RequestAccess

    func register(on router: GRPCRouter) {
        let server = Proposing(backend: backend, access: access)
        typealias S = Etcdserverpb.AuthService
        router.unary(S.authEnable) { _, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authEnable = Etcdserverpb.AuthEnableRequest()
            var r = Etcdserverpb.AuthEnableResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.authDisable) { _, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authDisable = Etcdserverpb.AuthDisableRequest()
            var r = Etcdserverpb.AuthDisableResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.authStatus) { _, context in try await server.status(context) }
        router.unary(S.authenticate) { request, context in try await server.authenticate(request, context) }
        router.unary(S.userAdd) { request, context in
            var add = request
            if add.options?.noPassword != true {
                add.hashedPassword = await server.backend.auth.hashForLog(add.password)
                add.password = ""
            }
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserAdd = add
            var r = Etcdserverpb.AuthUserAddResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.userGet) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserGet = request
            let (answer, header) = try await server.propose(p, context)
            var r = Etcdserverpb.AuthUserGetResponse()
            r.header = header
            if case .userRoles(let roles) = answer { r.roles = roles }
            return r
        }
        router.unary(S.userList) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserList = request
            let (answer, header) = try await server.propose(p, context)
            var r = Etcdserverpb.AuthUserListResponse()
            r.header = header
            if case .users(let users) = answer { r.users = users }
            return r
        }
        router.unary(S.userDelete) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserDelete = request
            var r = Etcdserverpb.AuthUserDeleteResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.userChangePassword) { request, context in
            var change = request
            change.hashedPassword = await server.backend.auth.hashForLog(change.password)
            change.password = ""
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserChangePassword = change
            var r = Etcdserverpb.AuthUserChangePasswordResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.userGrantRole) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserGrantRole = request
            var r = Etcdserverpb.AuthUserGrantRoleResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.userRevokeRole) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserRevokeRole = request
            var r = Etcdserverpb.AuthUserRevokeRoleResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        registerRoles(on: router)
    }

    private func registerRoles(on router: GRPCRouter) {
        let server = Proposing(backend: backend, access: access)
        typealias S = Etcdserverpb.AuthService
        router.unary(S.roleAdd) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleAdd = request
            var r = Etcdserverpb.AuthRoleAddResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.roleGet) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleGet = request
            let (answer, header) = try await server.propose(p, context)
            var r = Etcdserverpb.AuthRoleGetResponse()
            r.header = header
            if case .permissions(let perms) = answer { r.perm = perms }
            return r
        }
        router.unary(S.roleList) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleList = request
            let (answer, header) = try await server.propose(p, context)
            var r = Etcdserverpb.AuthRoleListResponse()
            r.header = header
            if case .roles(let roles) = answer { r.roles = roles }
            return r
        }
        router.unary(S.roleDelete) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleDelete = request
            var r = Etcdserverpb.AuthRoleDeleteResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.roleGrantPermission) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleGrantPermission = request
            var r = Etcdserverpb.AuthRoleGrantPermissionResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
        router.unary(S.roleRevokePermission) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleRevokePermission = request
            var r = Etcdserverpb.AuthRoleRevokePermissionResponse()
            r.header = try await server.propose(p, context).header
            return r
        }
    }

}

/// The Auth service's requests: proposed as the caller.
private struct Proposing {
    let backend: AuthBackend
    let access: RequestAccess

    /// Proposes an auth operation as the caller and waits for its answer here.
    func propose(_ p: Swiftetcd.InternalRaftRequest, _ context: GRPCRequestContext) async throws
        -> (answer: AuthAnswer, header: Etcdserverpb.ResponseHeader) {
        let identity = try await access.check(.open, context)
        let applied = try await backend.propose(p, as: identity)
        _ = try applied.response.get()
        return (applied.auth ?? .done, backend.header(revision: backend.currentRevision, term: applied.term))
    }

    /// etcd answers AuthStatus through Raft, for root only while auth is on.
    func status(_ context: GRPCRequestContext) async throws -> Etcdserverpb.AuthStatusResponse {
        try await backend.linearizableBarrier()
        _ = try await access.check(.admin, context)
        let snap = backend.auth.snapshot
        var r = Etcdserverpb.AuthStatusResponse()
        r.header = backend.currentHeader
        r.enabled = snap.enabled
        r.authRevision = snap.revision
        return r
    }

    /// etcd's Authenticate: the password is checked here (bcrypt off the
    /// event loop), then an Authenticate entry issues the token on every
    /// member; if the auth store changed meanwhile the check is redone.
    func authenticate(_ request: Etcdserverpb.AuthenticateRequest,
                      _ context: GRPCRequestContext) async throws -> Etcdserverpb.AuthenticateResponse {
        try await backend.linearizableBarrier()
        let auth = backend.auth
        while true {
            let checked = try await auth.checkPassword(name: request.name, password: request.password)
            var internalRequest = Swiftetcd.InternalAuthenticateRequest()
            internalRequest.name = request.name
            if case .simple = auth.tokens { internalRequest.simpleToken = SimpleTokens.generatePrefix() }
            var p = Swiftetcd.InternalRaftRequest()
            p.authenticate = internalRequest
            let (answer, header) = try await propose(p, context)
            guard checked == auth.snapshot.revision else { continue }  // the store changed: check again
            var r = Etcdserverpb.AuthenticateResponse()
            r.header = header
            r.token = try await auth.token(for: answer)
            return r
        }
    }
}
