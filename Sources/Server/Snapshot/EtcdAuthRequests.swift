/// Finds etcd auth changes among an etcd WAL's committed requests, which
/// `migrate` does not replay (users, roles, auth enable/disable,
/// authenticate: the auth store loads only what etcd's database holds), so
/// dropping them would lose acknowledged changes, or leave protection off
/// without a word.
///
/// An `etcdserverpb.InternalRaftRequest` names its request by field
/// number; etcd's `raft_internal.proto` gives the auth requests 1000-1299
/// (`auth_enable` 1000 … `auth_role_revoke_permission` 1204). Only the top
/// level is scanned; nothing is decoded or trusted beyond the tags.
enum EtcdAuthRequests {
    static let fieldNumbers: ClosedRange<UInt64> = 1000...1299

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
}
