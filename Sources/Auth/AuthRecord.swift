import Proto

/// etcd's auth buckets, record by record, in etcd's encodings so that a
/// store moved between etcd and swift-etcd (snapshot export/import) keeps
/// its users and roles:
/// - `auth`: `authEnabled` → one byte (1 on, 0 off); `authRevision` → the
///   revision, 8 bytes big-endian;
/// - `authUsers`: user name → `authpb.User` protobuf;
/// - `authRoles`: role name → `authpb.Role` protobuf.
public struct AuthRecord: Equatable, Sendable {
    public enum Bucket: String, Sendable, CaseIterable {
        case auth
        case authUsers
        case authRoles
    }

    public var bucket: Bucket
    public var key: [UInt8]
    /// nil deletes the record.
    public var value: [UInt8]?

    public init(bucket: Bucket, key: [UInt8], value: [UInt8]?) {
        self.bucket = bucket
        self.key = key
        self.value = value
    }

    static let enabledKey = Array("authEnabled".utf8)
    static let revisionKey = Array("authRevision".utf8)

    static func enabled(_ on: Bool) -> AuthRecord {
        AuthRecord(bucket: .auth, key: enabledKey, value: [on ? 1 : 0])
    }

    static func revision(_ revision: UInt64) -> AuthRecord {
        AuthRecord(bucket: .auth, key: revisionKey, value: (0..<8).map { UInt8(truncatingIfNeeded: revision >> (56 - 8 * UInt64($0))) })
    }

    static func user(_ user: Authpb.User) -> AuthRecord {
        AuthRecord(bucket: .authUsers, key: user.name, value: user.serializedBytes())
    }

    static func role(_ role: Authpb.Role) -> AuthRecord {
        AuthRecord(bucket: .authRoles, key: role.name, value: role.serializedBytes())
    }
}

extension AuthState {
    /// Rebuilds the state from the records of the three buckets (in any
    /// order). Users and roles are named by their protobuf's `name` (the key
    /// may be a storage-shortened form of it). A record that does not decode
    /// is an error: the caller must not serve with half an auth store.
    public init(records: [AuthRecord]) throws {
        self.init()
        for r in records {
            guard let value = r.value else { continue }
            switch r.bucket {
            case .auth:
                if r.key == AuthRecord.enabledKey {
                    enabled = value == [1]
                } else if r.key == AuthRecord.revisionKey {
                    guard value.count == 8 else { throw AuthRecordError("authRevision is \(value.count) bytes, not 8") }
                    revision = value.reduce(0) { $0 << 8 | UInt64($1) }
                }
            case .authUsers:
                let user = try value.withUnsafeBytes { try Authpb.User(serializedBytes: $0) }
                users[user.name] = user
            case .authRoles:
                let role = try value.withUnsafeBytes { try Authpb.Role(serializedBytes: $0) }
                roles[role.name] = role
            }
        }
    }

    /// Every record that describes this state (what a fresh store gets).
    public var records: [AuthRecord] {
        [.enabled(enabled), .revision(revision)] + users.values.map(AuthRecord.user) + roles.values.map(AuthRecord.role)
    }
}

public struct AuthRecordError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
