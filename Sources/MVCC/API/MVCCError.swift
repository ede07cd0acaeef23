/// A failure of the store, in the store's own terms. MVCC knows nothing of
/// gRPC: the server maps each kind to etcd's RPC error (code and message,
/// `ServerError(_: MVCCError)`), as etcd's v3rpc maps mvcc's errors.
public struct MVCCError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The revision asked for is below the compaction point.
        case compacted
        /// The revision asked for is above the current one.
        case futureRevision
        /// A request names no key.
        case emptyKey
        /// A put with ignore_value/ignore_lease on a missing key, or an empty txn op.
        case keyNotFound
        /// A put attaches a lease the lessor does not know.
        case leaseNotFound
        /// A file given to the store is missing.
        case fileNotFound
        /// A file or argument given to the store is not what it must be.
        case invalidInput
        /// The store cannot serve the read now (a snapshot view that ended).
        case unavailable
        /// LMDB or the file system failed; nothing of the batch was written.
        case storage
        /// The store found itself inconsistent (a bug or damage).
        case `internal`
    }

    public var kind: Kind
    /// What happened, for logs and for the kinds the server passes on verbatim.
    public var message: String
    /// The LMDB return code of a `storage` error.
    var lmdbCode: Int32?

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Whether the store itself failed (as opposed to refusing a request):
    /// an apply that meets one must not go on.
    public var isStoreFailure: Bool { kind == .storage || kind == .internal }

    // Messages as etcd's mvcc and apply layers word them (mvcc/kvstore.go,
    // lease/lessor.go); the server adds etcd's RPC wording.
    public static let compacted = MVCCError(.compacted, "mvcc: required revision has been compacted")
    public static let futureRevision = MVCCError(.futureRevision, "mvcc: required revision is a future revision")
    public static let emptyKey = MVCCError(.emptyKey, "key is not provided")
    public static let keyNotFound = MVCCError(.keyNotFound, "key not found")
    public static let leaseNotFound = MVCCError(.leaseNotFound, "lease not found")

    /// A storage failure (LMDB error); the server treats it as fatal for the member.
    static func storage(_ what: String, _ rc: Int32) -> MVCCError {
        var e = MVCCError(.storage, "mvcc: lmdb \(what) failed: \(LMDB.describe(rc))")
        e.lmdbCode = rc
        return e
    }
}
