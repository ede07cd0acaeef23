import Auth
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
///   user itself / a holder of the role), then the operation itself.
///
/// A request whose user lost permission since it was sent fails with
/// `revision of auth store is old` (its header revision is below the store's).
final class AuthApplyStage {
    let auth: AuthStore
    private let lessor: Lessor

    init(auth: AuthStore, lessor: Lessor) {
        self.auth = auth
        self.lessor = lessor
    }

    static func identity(_ header: Swiftetcd.RequestHeader?) -> AuthInfo {
        AuthInfo(username: header?.username ?? "", revision: header?.authRevision ?? 0)
    }

    /// nil when the entry's proposer may apply `write`.
    func refusal(write: WriteRequest, header: Swiftetcd.RequestHeader?) -> KVError? {
        let snap = auth.snapshot
        guard snap.enabled else { return nil }
        return snap.check(Self.identity(header), write: write, leaseKeys: leaseKeys)?.status
    }

    func refusal(leaseRevoke id: Int64, header: Swiftetcd.RequestHeader?) -> KVError? {
        let snap = auth.snapshot
        guard snap.enabled else { return nil }
        return snap.checkLeaseKeys(Self.identity(header), id, leaseKeys)?.status
    }

    /// Applies an auth operation; on success its records go into the
    /// entry's store commit.
    func apply(_ request: AuthRequest, index: UInt64, header: Swiftetcd.RequestHeader?) -> Result<AuthApplied, KVError> {
        auth.apply(request, index: index, identity: Self.identity(header)).mapError(\.status)
    }

    private func leaseKeys(_ id: Int64) -> [[UInt8]] { lessor.keysToRevoke(id) ?? [] }
}
