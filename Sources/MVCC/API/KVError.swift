/// An etcd KV error: a gRPC status code and etcd's exact message, so the
/// server can send `grpc-status` / `grpc-message` unchanged.
public struct KVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The gRPC status codes etcd uses for KV errors (numeric values as gRPC's).
    public enum Code: Int, Sendable {
        case invalidArgument = 3
        case notFound = 5
        case failedPrecondition = 9
        case resourceExhausted = 8
        case outOfRange = 11
        case `internal` = 13
        case unavailable = 14
        case dataLoss = 15
    }

    public var code: Code
    public var message: String
    /// The LMDB return code of a `storage` error.
    var lmdbCode: Int32?

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    // Strings from etcdserver/api/v3rpc/rpctypes/error.go.
    public static let emptyKey = KVError(.invalidArgument, "etcdserver: key is not provided")
    public static let keyNotFound = KVError(.invalidArgument, "etcdserver: key not found")
    public static let valueProvided = KVError(.invalidArgument, "etcdserver: value is provided")
    public static let leaseProvided = KVError(.invalidArgument, "etcdserver: lease is provided")
    public static let tooManyOps = KVError(.invalidArgument, "etcdserver: too many operations in txn request")
    public static let duplicateKey = KVError(.invalidArgument, "etcdserver: duplicate key given in txn request")
    public static let compacted = KVError(.outOfRange, "etcdserver: mvcc: required revision has been compacted")
    public static let futureRevision = KVError(.outOfRange, "etcdserver: mvcc: required revision is a future revision")
    public static let noSpace = KVError(.resourceExhausted, "etcdserver: mvcc: database space exceeded")
    public static let leaseNotFound = KVError(.notFound, "etcdserver: requested lease not found")
    public static let requestTooLarge = KVError(.invalidArgument, "etcdserver: request is too large")

    /// A storage failure (LMDB error); not an etcd string, the server should
    /// treat it as fatal for the member.
    static func storage(_ what: String, _ rc: Int32) -> KVError {
        var e = KVError(.internal, "mvcc: lmdb \(what) failed: \(LMDB.describe(rc))")
        e.lmdbCode = rc
        return e
    }
}
