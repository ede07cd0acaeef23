import MVCC
import Proto

/// Who sends a request (etcd's AuthInfo): the user its token or client
/// certificate names, and the auth revision that identity was valid at.
/// Revision 0 means "no user" (etcd's empty AuthInfo).
public struct AuthInfo: Equatable, Sendable {
    public var username: String
    public var revision: UInt64

    public init(username: String, revision: UInt64) {
        self.username = username
        self.revision = revision
    }
}

/// One user's effective permissions: the union of its roles'.
struct UserPermissions: Equatable, Sendable {
    var isRoot: Bool
    var read: KeyIntervalSet
    var write: KeyIntervalSet
}

/// An immutable view of the auth store at one auth revision, with each
/// user's permissions merged into interval sets (etcd's rangePermCache).
/// Rebuilt whenever the auth state changes and shared by reference: a
/// permission check reads no store and takes no lock.
public final class AuthSnapshot: Sendable {
    public let state: AuthState
    let permissions: [[UInt8]: UserPermissions]

    public var enabled: Bool { state.enabled }
    public var revision: UInt64 { state.revision }

    public init(_ state: AuthState) {
        self.state = state
        var permissions: [[UInt8]: UserPermissions] = [:]
        for (name, user) in state.users {
            var read: [KeyInterval] = [], write: [KeyInterval] = []
            for roleName in user.roles {
                guard let role = state.role(roleName) else { continue }
                for perm in role.keyPermission {
                    let iv = KeyInterval.covering(key: perm.key, rangeEnd: perm.rangeEnd)
                    switch perm.permType {
                    case .read: read.append(iv)
                    case .write: write.append(iv)
                    case .readwrite: read.append(iv); write.append(iv)
                    case .UNRECOGNIZED: break
                    }
                }
            }
            permissions[name] = UserPermissions(isRoot: AuthState.hasRootRole(user), read: KeyIntervalSet(read),
                                                write: KeyIntervalSet(write))
        }
        self.permissions = permissions
    }

    public enum Access: Sendable { case read, write }

    /// etcd's isOpPermitted for the keys `key`/`rangeEnd` (as a request
    /// names them): nil when allowed.
    public func check(_ info: AuthInfo?, _ access: Access, key: [UInt8], rangeEnd: [UInt8] = []) -> AuthFailure? {
        guard enabled else { return nil }
        guard let info, info.revision != 0 else { return .userEmpty }
        if info.revision < revision { return .authOldRevision }
        guard let perms = permissions[Array(info.username.utf8)] else { return .permissionDenied }
        if perms.isRoot { return nil }
        let set = access == .read ? perms.read : perms.write
        let allowed = rangeEnd.isEmpty ? set.contains(key: key) : set.covers(.covering(key: key, rangeEnd: rangeEnd))
        return allowed ? nil : .permissionDenied
    }

    /// etcd's IsAdminPermitted: the user must exist and hold the root role.
    public func checkAdmin(_ info: AuthInfo?) -> AuthFailure? {
        guard enabled else { return nil }
        guard let info, !info.username.isEmpty else { return .userEmpty }
        guard let perms = permissions[Array(info.username.utf8)] else { return .userNotFound }
        return perms.isRoot ? nil : .permissionDenied
    }

    /// Whether the auth operation may run for `info` (etcd's
    /// authApplierV3: admin for management, and UserGet/RoleGet also for
    /// the user itself / a holder of the role).
    public func authorize(_ request: AuthRequest, _ info: AuthInfo?) -> AuthFailure? {
        switch request {
        case .userGet(let name):
            guard let failure = checkAdmin(info) else { return nil }
            return AuthState.same(name, info?.username ?? "") ? nil : failure
        case .roleGet(let role):
            guard let failure = checkAdmin(info) else { return nil }
            guard let info, let user = state.user(info.username),
                  user.roles.contains(where: { AuthState.same($0, role) }) else { return failure }
            return nil
        default:
            return request.needsAdmin ? checkAdmin(info) : nil
        }
    }
}
