import GRPCWire
import Raft

/// Errors the server layer answers with, carrying etcd's exact gRPC code and
/// message (etcdserver/api/v3rpc/rpctypes) so clients react as with etcd:
/// clientv3 retries Unavailable, etcdctl prints the message.
struct ServerError: Error, Equatable, CustomStringConvertible {
    var code: GRPCStatus.Code
    var message: String

    var description: String { message }
    var status: GRPCStatus { GRPCStatus(code, message) }

    static let stopped = ServerError(code: .unavailable, message: "etcdserver: server stopped")
    static let noLeader = ServerError(code: .unavailable, message: "etcdserver: no leader")
    static let timeout = ServerError(code: .unavailable, message: "etcdserver: request timed out")
    /// A write that waited its whole request timeout for a leader (parked):
    /// etcd's raft node returns the request context's error, code Unknown.
    static let proposalDeadline = ServerError(code: .unknown, message: "context deadline exceeded")
    /// Raft refused a proposal although a leader is known: a leadership
    /// transfer is under way, or this leader is being removed (etcd passes
    /// raft's ErrProposalDropped through, code Unknown).
    static let proposalDropped = ServerError(code: .unknown, message: "raft proposal dropped")
    static let requestTooLarge = ServerError(code: .invalidArgument, message: "etcdserver: request is too large")
    // KV and lease requests.
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
    /// The applied entry answered with a result of another kind (a bug).
    static let unexpectedResult = ServerError(code: .internal, message: "etcdserver: unexpected apply result")

    /// Raft refused a proposal: "no leader" when this member knows none,
    /// else "raft proposal dropped" (a transfer in progress), as etcd.
    static func from(raft error: Error, leaderKnown: Bool) -> ServerError {
        if let raftError = error as? RaftError, raftError == .proposalDropped {
            return leaderKnown ? .proposalDropped : .noLeader
        }
        return ServerError(code: .unknown, message: "\(error)")
    }
}

extension ServerError {
    /// UserAdd/UserChangePassword with a NUL byte inside the password: our
    /// bcrypt package ends passwords at a NUL, so we refuse rather than hash
    /// a shorter password (etcd 3.5 accepts them).
    static let passwordWithNUL = ServerError(
        code: .invalidArgument, message: "etcdserver: a password holding a NUL byte is not supported by swift-etcd")
}
