import Auth
import Foundation
import Proto

/// etcd auth changes among an etcd WAL's committed requests, made ready for
/// `migrate` to replay them in the new member's log (users, roles, grants,
/// auth enable/disable, password changes), so nothing etcd acknowledged is
/// lost and protection is never left off.
///
/// An `etcdserverpb.InternalRaftRequest` names its request by field
/// number; etcd's `raft_internal.proto` gives the auth requests 1000-1299
/// (`auth_enable` 1000 … `auth_role_revoke_permission` 1204), the same
/// numbers swift-etcd's own log uses, so most entries replay as they are.
/// Two kinds are changed on the way:
/// - `authenticate` (1012) is left out: its token belonged to the old
///   cluster (etcd's tokens do not survive a restart either) and etcd logs
///   the password in it; it changes no state.
/// - a user add or password change that carries the password itself
///   (etcd 3.4 hashes at apply time; etcd 3.5 logs the bcrypt hash) gets
///   the hash here, as etcd 3.4's apply makes it (default cost), because
///   swift-etcd's apply takes only hashes.
enum EtcdAuthRequests {
    static let fieldNumbers: ClosedRange<UInt64> = 1000...1299
    static let authenticateField: UInt64 = 1012

    /// The first top-level field of `request` in the auth range; nil when
    /// there is none, or the bytes stop being protobuf before one (the
    /// applier then answers for that entry as for any undecodable one).
    static func authField(in request: [UInt8]) -> UInt64? {
        var found: UInt64?
        ProtoTopLevelFields.scan(request) { field, _ in
            if fieldNumbers.contains(field) { found = field }
            return found == nil
        }
        return found
    }

    /// What a committed etcd request becomes in the new log: the same
    /// bytes for everything but the two kinds above; nil to leave it out.
    static func forReplay(_ request: [UInt8], bcryptCost: Int = PasswordHasher.defaultCost) -> [UInt8]? {
        guard let field = authField(in: request) else { return request }
        if field == authenticateField { return nil }
        guard var m = try? request.withUnsafeBytes({ try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }) else {
            return request
        }
        // A password holding a NUL cannot be hashed as Go does (see
        // `PasswordHasher`): the user comes over without a usable password,
        // as swift-etcd refuses such passwords at UserAdd.
        func hash(_ password: String) -> String {
            PasswordHasher.canHash(password) ? Data(PasswordHasher.hash(password, cost: bcryptCost)).base64EncodedString() : ""
        }
        if var add = m.authUserAdd, add.options?.noPassword != true, add.hashedPassword.isEmpty {
            add.hashedPassword = hash(add.password)
            add.password = ""
            m.authUserAdd = add
            return m.serializedBytes(headroom: 0)
        }
        if var change = m.authUserChangePassword, change.hashedPassword.isEmpty {
            change.hashedPassword = hash(change.password)
            change.password = ""
            m.authUserChangePassword = change
            return m.serializedBytes(headroom: 0)
        }
        return request
    }
}
