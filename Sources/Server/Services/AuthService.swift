import GRPCWire
import Proto

/// etcdserverpb.Auth while authentication is not built: the answers etcd
/// gives with auth disabled and no users or roles (so `etcdctl auth status`,
/// `user list` and `role list` work), and a clear refusal for every RPC that
/// would create users or roles, so nobody believes they are protected.
struct AuthService {
    let backend: ResponseHeaders

    static let notSupported = ServerError(
        code: .unimplemented, message: "etcdserver: authentication (users and roles) is not supported by swift-etcd yet")
    static let authNotEnabled = ServerError(code: .failedPrecondition, message: "etcdserver: authentication is not enabled")
    static let rootUserNotExist = ServerError(code: .failedPrecondition, message: "etcdserver: root user does not exist")
    static let userNotFound = ServerError(code: .failedPrecondition, message: "etcdserver: user name not found")
    static let roleNotFound = ServerError(code: .failedPrecondition, message: "etcdserver: role name not found")

    /// etcd's auth revision of a store where auth was never touched.
    static let initialAuthRevision: UInt64 = 1

    func register(on router: GRPCRouter) {
        let backend = self.backend
        typealias S = Etcdserverpb.AuthService
        router.unary(S.authStatus) { _, _ in
            var r = Etcdserverpb.AuthStatusResponse()
            r.header = backend.currentHeader
            r.enabled = false
            r.authRevision = Self.initialAuthRevision
            return r
        }
        router.unary(S.authDisable) { _, _ in
            var r = Etcdserverpb.AuthDisableResponse()
            r.header = backend.currentHeader
            return r
        }
        router.unary(S.userList) { _, _ in
            var r = Etcdserverpb.AuthUserListResponse()
            r.header = backend.currentHeader
            return r
        }
        router.unary(S.roleList) { _, _ in
            var r = Etcdserverpb.AuthRoleListResponse()
            r.header = backend.currentHeader
            return r
        }
        router.unary(S.authEnable) { _, _ -> Etcdserverpb.AuthEnableResponse in throw Self.rootUserNotExist }
        router.unary(S.authenticate) { _, _ -> Etcdserverpb.AuthenticateResponse in throw Self.authNotEnabled }
        router.unary(S.userGet) { _, _ -> Etcdserverpb.AuthUserGetResponse in throw Self.userNotFound }
        router.unary(S.userDelete) { _, _ -> Etcdserverpb.AuthUserDeleteResponse in throw Self.userNotFound }
        router.unary(S.userChangePassword) { _, _ -> Etcdserverpb.AuthUserChangePasswordResponse in throw Self.userNotFound }
        router.unary(S.userGrantRole) { _, _ -> Etcdserverpb.AuthUserGrantRoleResponse in throw Self.userNotFound }
        router.unary(S.userRevokeRole) { _, _ -> Etcdserverpb.AuthUserRevokeRoleResponse in throw Self.userNotFound }
        router.unary(S.roleGet) { _, _ -> Etcdserverpb.AuthRoleGetResponse in throw Self.roleNotFound }
        router.unary(S.roleDelete) { _, _ -> Etcdserverpb.AuthRoleDeleteResponse in throw Self.roleNotFound }
        router.unary(S.roleGrantPermission) { _, _ -> Etcdserverpb.AuthRoleGrantPermissionResponse in throw Self.roleNotFound }
        router.unary(S.roleRevokePermission) { _, _ -> Etcdserverpb.AuthRoleRevokePermissionResponse in throw Self.roleNotFound }
        router.unary(S.userAdd) { _, _ -> Etcdserverpb.AuthUserAddResponse in throw Self.notSupported }
        router.unary(S.roleAdd) { _, _ -> Etcdserverpb.AuthRoleAddResponse in throw Self.notSupported }
    }
}
