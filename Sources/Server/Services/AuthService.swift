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
        typealias R = Swiftetcd.InternalRaftRequest
        router.unary(S.authenticate) { request, context in try await server.authenticate(request, context) }
        // Operations answered with a header only.
        server.register(S.authEnable, \R.authEnable, on: router)
        server.register(S.authDisable, \R.authDisable, on: router)
        server.register(S.userDelete, \R.authUserDelete, on: router)
        server.register(S.userGrantRole, \R.authUserGrantRole, on: router)
        server.register(S.userRevokeRole, \R.authUserRevokeRole, on: router)
        server.register(S.roleAdd, \R.authRoleAdd, on: router)
        server.register(S.roleDelete, \R.authRoleDelete, on: router)
        server.register(S.roleGrantPermission, \R.authRoleGrantPermission, on: router)
        server.register(S.roleRevokePermission, \R.authRoleRevokePermission, on: router)
        // Passwords become bcrypt hashes before they are proposed (etcd 3.5).
        server.register(S.userAdd, \R.authUserAdd, on: router, prepare: { request in
            guard request.options?.noPassword != true else { return request }
            try Proposing.checkHashable(request.password)
            var add = request
            add.hashedPassword = try await server.backend.auth.hashForLog(add.password)
            add.password = ""
            return add
        })
        // etcd 3.5 hashes a given password; without one, the client's own
        // `hashedPassword` (base64 of a bcrypt hash) is proposed as sent.
        server.register(S.userChangePassword, \R.authUserChangePassword, on: router, prepare: { request in
            guard !request.password.isEmpty else { return request }
            try Proposing.checkHashable(request.password)
            var change = request
            change.hashedPassword = try await server.backend.auth.hashForLog(change.password)
            change.password = ""
            return change
        })
        // Operations answered with data.
        server.register(S.authStatus, \R.authStatus, on: router, fill: { answer, r in
            if case .status(let enabled, let revision) = answer { (r.enabled, r.authRevision) = (enabled, revision) }
        })
        server.register(S.userGet, \R.authUserGet, on: router, fill: { answer, r in
            if case .userRoles(let roles) = answer { r.roles = roles }
        })
        server.register(S.userList, \R.authUserList, on: router, fill: { answer, r in
            if case .users(let users) = answer { r.users = users }
        })
        server.register(S.roleGet, \R.authRoleGet, on: router, fill: { answer, r in
            if case .permissions(let perms) = answer { r.perm = perms }
        })
        server.register(S.roleList, \R.authRoleList, on: router, fill: { answer, r in
            if case .roles(let roles) = answer { r.roles = roles }
        })
    }
}

/// An Auth response: a header, and what `fill` copies from the answer.
protocol AuthResponse: ProtoMessage {
    var header: Etcdserverpb.ResponseHeader? { get set }
}

extension Etcdserverpb.AuthEnableResponse: AuthResponse {}
extension Etcdserverpb.AuthDisableResponse: AuthResponse {}
extension Etcdserverpb.AuthStatusResponse: AuthResponse {}
extension Etcdserverpb.AuthUserAddResponse: AuthResponse {}
extension Etcdserverpb.AuthUserDeleteResponse: AuthResponse {}
extension Etcdserverpb.AuthUserChangePasswordResponse: AuthResponse {}
extension Etcdserverpb.AuthUserGrantRoleResponse: AuthResponse {}
extension Etcdserverpb.AuthUserRevokeRoleResponse: AuthResponse {}
extension Etcdserverpb.AuthUserGetResponse: AuthResponse {}
extension Etcdserverpb.AuthUserListResponse: AuthResponse {}
extension Etcdserverpb.AuthRoleAddResponse: AuthResponse {}
extension Etcdserverpb.AuthRoleDeleteResponse: AuthResponse {}
extension Etcdserverpb.AuthRoleGetResponse: AuthResponse {}
extension Etcdserverpb.AuthRoleListResponse: AuthResponse {}
extension Etcdserverpb.AuthRoleGrantPermissionResponse: AuthResponse {}
extension Etcdserverpb.AuthRoleRevokePermissionResponse: AuthResponse {}

/// The Auth service's requests: proposed as the caller.
private struct Proposing: Sendable {
    let backend: AuthBackend
    let access: RequestAccess

    /// Registers `method`: the request (after `prepare`) goes into `field`
    /// of a proposal, the answer is the header plus what `fill` copies.
    func register<Request, Response: AuthResponse>(
        _ method: ProtoMethod<Request, Response>, _ field: WritableKeyPath<Swiftetcd.InternalRaftRequest, Request?>,
        on router: GRPCRouter,
        prepare: @escaping @Sendable (Request) async throws -> Request = { $0 },
        fill: @escaping @Sendable (AuthAnswer, inout Response) -> Void = { _, _ in }
    ) {
        let server = self
        router.unary(method) { request, context in
            var p = Swiftetcd.InternalRaftRequest()
            p[keyPath: field] = try await prepare(request)
            let (answer, header) = try await server.propose(p, context)
            var r = Response()
            r.header = header
            fill(answer, &r)
            return r
        }
    }

    /// A password with a NUL byte inside is refused before it is proposed:
    /// the bcrypt package we use ends passwords at a NUL (it would hash
    /// "p\0q" as "p"), and a short hash is worse than a clear refusal. etcd
    /// 3.5 accepts such passwords; this is a known difference.
    static func checkHashable(_ password: String) throws {
        guard PasswordHasher.canHash(password) else { throw ServerError.passwordWithNUL }
    }

    /// Proposes an auth operation as the caller and waits for its answer here.
    func propose(_ p: Swiftetcd.InternalRaftRequest, _ context: GRPCRequestContext) async throws
        -> (answer: AuthAnswer, header: Etcdserverpb.ResponseHeader) {
        let identity = try await access.check(.open, context)
        let applied = try await backend.propose(p, as: identity)
        _ = try applied.response.get()
        return (applied.auth ?? .done, backend.header(revision: backend.currentRevision, term: applied.term))
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
