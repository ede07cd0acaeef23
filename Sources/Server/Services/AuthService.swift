import Auth
import GRPCWire
import Proto

/// etcdserverpb.Auth (etcd 3.5's v3rpc/auth.go and v3_server.go): every
/// operation goes through Raft and is applied by `AuthApplyStage` on every
/// member, which checks the proposer's rights there. Passwords are hashed
/// here, off the event loops, so only bcrypt hashes enter the log.
struct AuthService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        typealias S = Etcdserverpb.AuthService
        router.unary(S.authEnable) { _, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authEnable = Etcdserverpb.AuthEnableRequest()
            var r = Etcdserverpb.AuthEnableResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.authDisable) { _, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authDisable = Etcdserverpb.AuthDisableRequest()
            var r = Etcdserverpb.AuthDisableResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.authStatus) { _, _ in try await Self.status(server) }
        router.unary(S.authenticate) { request, _ in try await Self.authenticate(server, request) }
        router.unary(S.userAdd) { request, _ in
            var add = request
            if add.options?.noPassword != true {
                add.hashedPassword = await server.auth.hashForLog(add.password)
                add.password = ""
            }
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserAdd = add
            var r = Etcdserverpb.AuthUserAddResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.userGet) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserGet = request
            let (answer, header) = try await Self.propose(server, p)
            var r = Etcdserverpb.AuthUserGetResponse()
            r.header = header
            if case .userRoles(let roles) = answer { r.roles = roles }
            return r
        }
        router.unary(S.userList) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserList = request
            let (answer, header) = try await Self.propose(server, p)
            var r = Etcdserverpb.AuthUserListResponse()
            r.header = header
            if case .users(let users) = answer { r.users = users }
            return r
        }
        router.unary(S.userDelete) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserDelete = request
            var r = Etcdserverpb.AuthUserDeleteResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.userChangePassword) { request, _ in
            var change = request
            change.hashedPassword = await server.auth.hashForLog(change.password)
            change.password = ""
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserChangePassword = change
            var r = Etcdserverpb.AuthUserChangePasswordResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.userGrantRole) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserGrantRole = request
            var r = Etcdserverpb.AuthUserGrantRoleResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.userRevokeRole) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authUserRevokeRole = request
            var r = Etcdserverpb.AuthUserRevokeRoleResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        registerRoles(on: router)
    }

    private func registerRoles(on router: GRPCRouter) {
        let server = self.server
        typealias S = Etcdserverpb.AuthService
        router.unary(S.roleAdd) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleAdd = request
            var r = Etcdserverpb.AuthRoleAddResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.roleGet) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleGet = request
            let (answer, header) = try await Self.propose(server, p)
            var r = Etcdserverpb.AuthRoleGetResponse()
            r.header = header
            if case .permissions(let perms) = answer { r.perm = perms }
            return r
        }
        router.unary(S.roleList) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleList = request
            let (answer, header) = try await Self.propose(server, p)
            var r = Etcdserverpb.AuthRoleListResponse()
            r.header = header
            if case .roles(let roles) = answer { r.roles = roles }
            return r
        }
        router.unary(S.roleDelete) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleDelete = request
            var r = Etcdserverpb.AuthRoleDeleteResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.roleGrantPermission) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleGrantPermission = request
            var r = Etcdserverpb.AuthRoleGrantPermissionResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
        router.unary(S.roleRevokePermission) { request, _ in
            var p = Swiftetcd.InternalRaftRequest()
            p.authRoleRevokePermission = request
            var r = Etcdserverpb.AuthRoleRevokePermissionResponse()
            r.header = try await Self.propose(server, p).header
            return r
        }
    }

    /// Proposes an auth operation and waits for its answer on this member.
    static func propose(_ server: EtcdServer, _ p: Swiftetcd.InternalRaftRequest) async throws
        -> (answer: AuthAnswer, header: Etcdserverpb.ResponseHeader) {
        let applied = try await server.propose(p)
        _ = try applied.response.get()
        return (applied.auth ?? .done, server.header(revision: server.store.currentRevision, term: applied.term))
    }

    /// etcd answers AuthStatus through Raft, for root only while auth is on.
    static func status(_ server: EtcdServer) async throws -> Etcdserverpb.AuthStatusResponse {
        try await server.linearizableBarrier()
        try await server.requireAdmin()
        let snap = server.auth.snapshot
        var r = Etcdserverpb.AuthStatusResponse()
        r.header = server.header(revision: server.store.currentRevision)
        r.enabled = snap.enabled
        r.authRevision = snap.revision
        return r
    }

    /// etcd's Authenticate: the password is checked here (bcrypt off the
    /// event loop), then an Authenticate entry issues the token on every
    /// member; if the auth store changed meanwhile the check is redone.
    static func authenticate(_ server: EtcdServer, _ request: Etcdserverpb.AuthenticateRequest) async throws
        -> Etcdserverpb.AuthenticateResponse {
        try await server.linearizableBarrier()
        while true {
            let checked = try await server.auth.checkPassword(name: request.name, password: request.password)
            var internalRequest = Swiftetcd.InternalAuthenticateRequest()
            internalRequest.name = request.name
            if case .simple = server.auth.tokens { internalRequest.simpleToken = SimpleTokens.generatePrefix() }
            var p = Swiftetcd.InternalRaftRequest()
            p.authenticate = internalRequest
            let (answer, header) = try await propose(server, p)
            guard checked == server.auth.snapshot.revision else {
                server.logger.info("revision when password checked became stale; retrying")
                continue
            }
            var r = Etcdserverpb.AuthenticateResponse()
            r.header = header
            r.token = try await server.auth.token(for: answer)
            return r
        }
    }
}
