import Proto

/// One auth operation as it travels through Raft (a field of
/// `InternalRaftRequest`), decoded once for the apply step.
public enum AuthRequest: Sendable, Equatable {
    case enable
    case disable
    /// AuthStatus: answered at apply, as etcd 3.5 answers it through Raft.
    case status
    /// The password was checked by the proposer (it never enters the log);
    /// `simpleToken` is the random prefix the proposer chose ("" for JWT).
    case authenticate(name: String, simpleToken: String)
    /// `hashedPassword` is base64 of the bcrypt hash made by the proposer (as etcd 3.5).
    case userAdd(Etcdserverpb.AuthUserAddRequest)
    case userDelete(name: String)
    case userChangePassword(name: String, hashedPassword: String)
    case userGrantRole(user: String, role: String)
    case userGet(name: String)
    case userList
    case userRevokeRole(name: String, role: String)
    case roleAdd(name: String)
    case roleGet(role: String)
    case roleList
    case roleDelete(role: String)
    case roleGrantPermission(name: String, perm: Authpb.Permission?)
    case roleRevokePermission(role: String, key: [UInt8], rangeEnd: [UInt8])

    /// The auth operation in `m`, nil when it carries another request.
    public init?(_ m: Swiftetcd.InternalRaftRequest) {
        if m.authEnable != nil { self = .enable; return }
        if m.authDisable != nil { self = .disable; return }
        if m.authStatus != nil { self = .status; return }
        if let a = m.authenticate { self = .authenticate(name: a.name, simpleToken: a.simpleToken); return }
        if let r = m.authUserAdd { self = .userAdd(r); return }
        if let r = m.authUserDelete { self = .userDelete(name: r.name); return }
        if let r = m.authUserChangePassword {
            self = .userChangePassword(name: r.name, hashedPassword: r.hashedPassword)
            return
        }
        if let r = m.authUserGrantRole { self = .userGrantRole(user: r.user, role: r.role); return }
        if let r = m.authUserGet { self = .userGet(name: r.name); return }
        if m.authUserList != nil { self = .userList; return }
        if let r = m.authUserRevokeRole { self = .userRevokeRole(name: r.name, role: r.role); return }
        if let r = m.authRoleAdd { self = .roleAdd(name: r.name); return }
        if let r = m.authRoleGet { self = .roleGet(role: r.role); return }
        if m.authRoleList != nil { self = .roleList; return }
        if let r = m.authRoleDelete { self = .roleDelete(role: r.role); return }
        if let r = m.authRoleGrantPermission { self = .roleGrantPermission(name: r.name, perm: r.perm); return }
        if let r = m.authRoleRevokePermission {
            self = .roleRevokePermission(role: r.role, key: r.key, rangeEnd: r.rangeEnd)
            return
        }
        return nil
    }

    /// etcd's needAdminPermission: only a user holding the root role may do
    /// this while auth is enabled (UserGet/RoleGet have their own rule).
    public var needsAdmin: Bool {
        switch self {
        case .authenticate, .userGet, .roleGet: return false
        default: return true
        }
    }
}

/// What an applied auth operation answers (beyond the response header).
public enum AuthAnswer: Sendable, Equatable {
    case done
    /// Authenticate: the simple token registered on every member ("" with
    /// JWT: the proposer signs one for `user` at `revision`).
    case authenticated(user: String, revision: UInt64, simpleToken: String)
    case userRoles([String])
    case users([String])
    case permissions([Authpb.Permission])
    case roles([String])
    case status(enabled: Bool, revision: UInt64)
}
