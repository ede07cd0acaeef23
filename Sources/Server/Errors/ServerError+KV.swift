import GRPCWire
import MVCC

/// etcd's KV and lease RPC errors (strings from
/// etcdserver/api/v3rpc/rpctypes/error.go, codes as etcd sends them).
extension ServerError {
    static let emptyKey = ServerError(code: .invalidArgument, message: "etcdserver: key is not provided")
    static let keyNotFound = ServerError(code: .invalidArgument, message: "etcdserver: key not found")
    static let valueProvided = ServerError(code: .invalidArgument, message: "etcdserver: value is provided")
    static let leaseProvided = ServerError(code: .invalidArgument, message: "etcdserver: lease is provided")
    static let tooManyOps = ServerError(code: .invalidArgument, message: "etcdserver: too many operations in txn request")
    static let duplicateKey = ServerError(code: .invalidArgument, message: "etcdserver: duplicate key given in txn request")
    static let compacted = ServerError(code: .outOfRange, message: "etcdserver: mvcc: required revision has been compacted")
    static let futureRevision = ServerError(code: .outOfRange, message: "etcdserver: mvcc: required revision is a future revision")
    static let noSpace = ServerError(code: .resourceExhausted, message: "etcdserver: mvcc: database space exceeded")
    static let leaseNotFound = ServerError(code: .notFound, message: "etcdserver: requested lease not found")

    /// The RPC error etcd answers for a store failure (v3rpc's togRPCError):
    /// the store's refusals get etcd's wording; a failure of the store itself
    /// goes out as INTERNAL with the store's message.
    init(_ error: MVCCError) {
        switch error.kind {
        case .compacted: self = .compacted
        case .futureRevision: self = .futureRevision
        case .emptyKey: self = .emptyKey
        case .keyNotFound: self = .keyNotFound
        case .leaseNotFound: self = .leaseNotFound
        case .fileNotFound: self.init(code: .notFound, message: error.message)
        case .invalidInput: self.init(code: .invalidArgument, message: error.message)
        case .storage, .internal: self.init(code: .internal, message: error.message)
        }
    }
}
