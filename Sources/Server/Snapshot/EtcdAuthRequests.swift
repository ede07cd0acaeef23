/// Finds etcd auth changes among an etcd WAL's committed requests, which
/// `migrate` cannot carry: swift-etcd has no auth store to apply them to
/// (users, roles, auth enable/disable, authenticate), so dropping them
/// would lose acknowledged changes, or turn protection off without a word.
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
        var at = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while at < request.count, shift < 64 {
                let b = request[at]
                at += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while at < request.count {
            guard let tag = varint() else { return nil }
            let field = tag >> 3
            if fieldNumbers.contains(field) { return field }
            switch tag & 7 {
            case 0: guard varint() != nil else { return nil }
            case 1: at += 8
            case 2:
                guard let n = varint(), n <= UInt64(request.count - at) else { return nil }
                at += Int(n)
            case 5: at += 4
            default: return nil
            }
        }
        return nil
    }
}
