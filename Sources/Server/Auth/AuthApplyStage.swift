import Auth
import GRPCWire
import MVCC
import Proto

/// The auth stage of apply (etcd's authApplierV3), on the apply thread for
/// every committed entry, on every member: the proposer's identity comes
/// from the entry header (user name and the auth revision its request was
/// checked at), and the auth state is the one as of this log position, so
/// all members give the same answers.
///
/// - KV writes: write on the keys (and read with prev_kv, compares and
///   ranges inside txns, nested ones included); a lease attached by a Put
///   must hold only keys the user may write.
/// - LeaseRevoke: write on every key the lease holds.
/// - Auth operations: root for management (UserGet/RoleGet also for the
///   user itself / a holder of the role); the backend then applies them.
///
/// A request whose user lost permission since it was sent fails with
/// `revision of auth store is old` (its header revision is below the store's).
final class AuthApplyStage: ApplyGuard {
    let auth: AuthStore
    private let lessor: Lessor

    init(auth: AuthStore, lessor: Lessor) {
        self.auth = auth
        self.lessor = lessor
    }

    static func identity(_ header: Swiftetcd.RequestHeader?) -> AuthInfo {
        AuthInfo(username: header?.username ?? "", revision: header?.authRevision ?? 0)
    }

    func refusal(for entry: ApplyEntry) -> ServerError? {
        let snap = auth.snapshot
        let identity = Self.identity(entry.message.header)
        switch entry.request {
        case .write(let write):
            guard snap.enabled else { return nil }
            return snap.check(identity, write: write, leaseKeys: leaseKeys).map { ServerError($0.status) }
        case .leaseRevoke(let id):
            guard snap.enabled else { return nil }
            return snap.checkLeaseKeys(identity, id, leaseKeys).map { ServerError($0.status) }
        case .auth(let request):
            return snap.authorize(request, identity).map { ServerError($0.status) }
        case .noop, .leaseGrant, .leaseCheckpoint, .alarm, .downgrade, .memberAttributes, .clusterVersion, .range, .unknown, .undecodable:
            return nil
        }
    }

    /// A lease's keys must include the writes still pending in the
    /// backend's run (etcd applies one entry at a time).
    func needsSettledState(_ entry: ApplyEntry) -> Bool {
        guard auth.snapshot.enabled else { return false }
        switch entry.request {
        case .leaseRevoke: return true
        case .write(.put(let p)): return p.lease != 0
        default: return false
        }
    }

    private func leaseKeys(_ id: Int64) -> [[UInt8]] { lessor.keysToRevoke(id) ?? [] }
}

extension ServerError {
    /// An auth answer with its gRPC code and etcd's message unchanged.
    init(_ auth: AuthError) {
        self.init(code: GRPCStatus.Code(rawValue: auth.code.rawValue) ?? .unknown, message: auth.message)
    }
}
