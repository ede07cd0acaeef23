/// etcd's backend schema (etcd 3.4/3.5 `member/snap/db` and snapshot files):
/// the bucket names and the encodings of what they hold.
///
/// - `key`: revision key → `mvccpb.KeyValue`. The key is `main` (8 bytes
///   big endian) ‖ `_` ‖ `sub` (8 bytes big endian), plus `t` for a
///   tombstone, whose value holds only the key.
/// - `meta`: `consistent_index` and `term` (8 bytes big endian),
///   `scheduledCompactRev` and `finishedCompactRev` (revision keys with sub
///   0), `confState` (JSON, etcd 3.5).
/// - `lease`: lease ID (8 bytes big endian) → `leasepb.Lease`.
/// - `members`: member ID in lowercase hex → member JSON;
///   `members_removed`: ID → "removed"; `cluster`: `clusterVersion`.
/// - `alarm`: `etcdserverpb.AlarmMember` → empty.
/// - `auth` (`authEnabled`, `authRevision`), `authUsers`, `authRoles`:
///   etcd's auth store, kept as they are.
public enum EtcdSchema {
    public static let keyBucket = Array("key".utf8)
    public static let metaBucket = Array("meta".utf8)
    public static let leaseBucket = Array("lease".utf8)
    public static let membersBucket = Array("members".utf8)
    public static let membersRemovedBucket = Array("members_removed".utf8)
    public static let clusterBucket = Array("cluster".utf8)
    public static let alarmBucket = Array("alarm".utf8)
    public static let authBucket = Array("auth".utf8)
    public static let authUsersBucket = Array("authUsers".utf8)
    public static let authRolesBucket = Array("authRoles".utf8)

    /// Every bucket etcd 3.5 creates, so tools find each one present.
    public static let allBuckets = [alarmBucket, authBucket, authRolesBucket, authUsersBucket, clusterBucket,
                                    keyBucket, leaseBucket, membersBucket, membersRemovedBucket, metaBucket]
    /// Buckets a swift-etcd store keeps as etcd wrote them (see `MVCCStore+RawBuckets`).
    public static let rawBuckets = [authBucket, authRolesBucket, authUsersBucket]

    public static let consistentIndexKey = Array("consistent_index".utf8)
    public static let termKey = Array("term".utf8)
    public static let confStateKey = Array("confState".utf8)
    public static let scheduledCompactKey = Array("scheduledCompactRev".utf8)
    public static let finishedCompactKey = Array("finishedCompactRev".utf8)
    public static let clusterVersionKey = Array("clusterVersion".utf8)
    public static let authRevisionKey = Array("authRevision".utf8)
    /// `auth` bucket: `[1]` while authentication is on, `[0]` once turned off.
    public static let authEnabledKey = Array("authEnabled".utf8)

    public static let revisionKeyBytes = 17
    static let tombstoneMark = UInt8(ascii: "t")

    /// The key-bucket key of a change.
    static func revisionKey(main: Int64, sub: Int64, tombstone: Bool) -> [UInt8] {
        var out = [UInt8](repeating: UInt8(ascii: "_"), count: tombstone ? 18 : 17)
        out.withUnsafeMutableBytes { b in
            b.storeBytes(of: main.bigEndian, toByteOffset: 0, as: Int64.self)
            b.storeBytes(of: sub.bigEndian, toByteOffset: 9, as: Int64.self)
        }
        if tombstone { out[17] = tombstoneMark }
        return out
    }

    /// Parses a key-bucket key; nil when it is not 17 bytes with `_` (or 18 ending in `t`).
    static func parseRevisionKey(_ k: UnsafeRawBufferPointer) -> (main: Int64, sub: Int64, tombstone: Bool)? {
        guard k.count == 17 || (k.count == 18 && k[17] == tombstoneMark), k[8] == UInt8(ascii: "_") else { return nil }
        return (Int64(bigEndian: k.loadUnaligned(fromByteOffset: 0, as: Int64.self)),
                Int64(bigEndian: k.loadUnaligned(fromByteOffset: 9, as: Int64.self)), k.count == 18)
    }

    static func uint64BE(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }

    static func parseUInt64BE(_ b: UnsafeRawBufferPointer) -> UInt64? {
        b.count == 8 ? UInt64(bigEndian: b.loadUnaligned(as: UInt64.self)) : nil
    }

    /// A member's key in `members`: the ID in lowercase hex (Go's types.ID).
    public static func memberKey(_ id: UInt64) -> [UInt8] { Array(String(id, radix: 16).utf8) }
}
