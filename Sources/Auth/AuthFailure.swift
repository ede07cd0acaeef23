import MVCC

/// Every way an auth operation or check fails, as etcd's auth package names
/// them. A failure has two faces: the gRPC status etcd's v3rpc layer maps it
/// to (`status`, rpctypes' code and "etcdserver: …" text), and the auth
/// package's own error, which etcd's Maintenance service returns unmapped
/// (`unmapped`: gRPC Unknown with the "auth: …" text).
public enum AuthFailure: Error, Equatable, Sendable {
    case rootUserNotExist
    case rootRoleNotExist
    case userAlreadyExist
    case userEmpty
    case userNotFound
    case roleAlreadyExist
    case roleNotFound
    case roleEmpty
    case authFailed
    /// Authenticate for a user created with `no_password` (etcd 3.5.1 leaves
    /// it unmapped: gRPC Unknown with the auth package's text).
    case noPasswordUser
    case permissionDenied
    case roleNotGranted
    case permissionNotGranted
    /// RoleGrantPermission without a permission (etcd 3.5.1 checks this first).
    case permissionNotGiven
    case authNotEnabled
    case authOldRevision
    case invalidAuthToken
    case invalidAuthMgmt
    /// A JWT provider holding only a public key cannot sign tokens.
    case verifyOnly
    /// An error etcd passes through untranslated (gRPC Unknown, `message` as is).
    case other(String)

    /// What etcd's gRPC layer answers (rpctypes.ErrGRPC…).
    public var status: AuthError {
        switch self {
        case .rootUserNotExist: return AuthError(.failedPrecondition, "etcdserver: root user does not exist")
        case .rootRoleNotExist: return AuthError(.failedPrecondition, "etcdserver: root user does not have root role")
        case .userAlreadyExist: return AuthError(.failedPrecondition, "etcdserver: user name already exists")
        case .userEmpty: return AuthError(.invalidArgument, "etcdserver: user name is empty")
        case .userNotFound: return AuthError(.failedPrecondition, "etcdserver: user name not found")
        case .roleAlreadyExist: return AuthError(.failedPrecondition, "etcdserver: role name already exists")
        case .roleNotFound: return AuthError(.failedPrecondition, "etcdserver: role name not found")
        case .roleEmpty: return AuthError(.invalidArgument, "etcdserver: role name is empty")
        case .authFailed: return AuthError(.invalidArgument, "etcdserver: authentication failed, invalid user ID or password")
        case .permissionDenied: return AuthError(.permissionDenied, "etcdserver: permission denied")
        case .roleNotGranted: return AuthError(.failedPrecondition, "etcdserver: role is not granted to the user")
        case .permissionNotGranted: return AuthError(.failedPrecondition, "etcdserver: permission is not granted to the role")
        case .permissionNotGiven: return AuthError(.invalidArgument, "etcdserver: permission not given")
        case .authNotEnabled: return AuthError(.failedPrecondition, "etcdserver: authentication is not enabled")
        case .authOldRevision: return AuthError(.invalidArgument, "etcdserver: revision of auth store is old")
        case .invalidAuthToken: return AuthError(.unauthenticated, "etcdserver: invalid auth token")
        case .invalidAuthMgmt: return AuthError(.invalidArgument, "etcdserver: invalid auth management")
        case .noPasswordUser, .verifyOnly, .other: return unmapped
        }
    }

    /// The auth package's own error text, as etcd's Maintenance RPCs return it.
    public var unmapped: AuthError { AuthError(.unknown, rawMessage) }

    var rawMessage: String {
        switch self {
        case .rootUserNotExist: return "auth: root user does not exist"
        case .rootRoleNotExist: return "auth: root user does not have root role"
        case .userAlreadyExist: return "auth: user already exists"
        case .userEmpty: return "auth: user name is empty"
        case .userNotFound: return "auth: user not found"
        case .roleAlreadyExist: return "auth: role already exists"
        case .roleNotFound: return "auth: role not found"
        case .roleEmpty: return "auth: role name is empty"
        case .authFailed: return "auth: authentication failed, invalid user ID or password"
        case .noPasswordUser: return "auth: authentication failed, password was given for no password user"
        case .permissionDenied: return "auth: permission denied"
        case .roleNotGranted: return "auth: role is not granted to the user"
        case .permissionNotGranted: return "auth: permission is not granted to the role"
        case .permissionNotGiven: return "auth: permission not given"
        case .authNotEnabled: return "auth: authentication is not enabled"
        case .authOldRevision: return "auth: revision in header is old"
        case .invalidAuthToken: return "auth: invalid auth token"
        case .invalidAuthMgmt: return "auth: invalid auth management"
        case .verifyOnly: return "auth: token signing attempted with verify-only key"
        case .other(let message): return message
        }
    }
}
