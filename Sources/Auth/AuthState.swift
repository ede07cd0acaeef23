import Foundation
import MVCC
import Proto

/// etcd's auth store (etcd 3.5 `auth/store.go`) as a value: whether auth is
/// on, the auth revision, users and roles. Every operation is deterministic
/// (the Raft apply step runs it on every member) and returns the records to
/// persist in the same store commit as the entry's index.
///
/// Invariants, as etcd keeps them: a user's `roles` are sorted bytewise and
/// unique; a role's permissions are in Go's `sort.Sort` order by key; the
/// revision grows by one on every change except AuthEnable and no-op
/// grants. Names are compared as bytes (etcd's bucket keys), never by
/// Unicode equivalence.
public struct AuthState: Equatable, Sendable {
    public static let rootUser = "root"
    public static let rootRole = "root"

    public internal(set) var enabled = false
    /// 0 only in a store that never held auth data; `initialized()` makes it 1 as etcd's NewAuthStore.
    public internal(set) var revision: UInt64 = 0
    public internal(set) var users: [[UInt8]: Authpb.User] = [:]
    public internal(set) var roles: [[UInt8]: Authpb.Role] = [:]

    public init() {}

    /// etcd's NewAuthStore: a store at revision 0 starts at 1. Returns the
    /// record to persist, nil when nothing changes.
    public mutating func initialize() -> AuthRecord? {
        guard revision == 0 else { return nil }
        revision = 1
        return .revision(1)
    }

    public func user(_ name: String) -> Authpb.User? { users[Array(name.utf8)] }
    public func role(_ name: String) -> Authpb.Role? { roles[Array(name.utf8)] }

    /// User names in bucket (bytewise) order, as etcd lists them.
    public var userNames: [String] { sortedNames(users.keys) }
    public var roleNames: [String] { sortedNames(roles.keys) }

    private func sortedNames(_ keys: Dictionary<[UInt8], some Any>.Keys) -> [String] {
        keys.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func hasRootRole(_ user: Authpb.User) -> Bool { user.roles.contains { same($0, rootRole) } }

    /// Byte equality of two names (Swift's `==` would equate canonically
    /// equivalent Unicode, etcd does not).
    static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// Bumps the revision and returns its record (etcd's commitRevision).
    mutating func commitRevision() -> AuthRecord {
        revision &+= 1
        return .revision(revision)
    }
}

/// What applying one auth operation did: the answer for its proposer, the
/// records to persist, and the user whose tokens must be dropped.
public struct AuthApplied: Equatable, Sendable {
    public var answer: AuthAnswer
    public var records: [AuthRecord]
    /// UserDelete and UserChangePassword invalidate the user's simple tokens.
    public var invalidatedUser: String?
    /// AuthEnable/AuthDisable switch the token provider on or off.
    public var enabledChanged = false

    init(_ answer: AuthAnswer = .done, _ records: [AuthRecord] = [], invalidatedUser: String? = nil) {
        self.answer = answer
        self.records = records
        self.invalidatedUser = invalidatedUser
    }
}

/// Go's base64.StdEncoding.DecodeString for hashed passwords in the log
/// (`Base64.decode`: newlines skipped as Go does, so "\n" is an empty hash).
func decodeHashedPassword(_ text: String) throws(AuthFailure) -> [UInt8] {
    do { return try Base64.decode(text) } catch { throw .other(error.message) }
}
