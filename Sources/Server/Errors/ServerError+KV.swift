import GRPCWire
import MVCC

extension ServerError {
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
        case .unavailable: self.init(code: .unavailable, message: error.message)
        case .storage, .internal: self.init(code: .internal, message: error.message)
        }
    }
}
