import MVCC
import NIOCore
import Proto

/// What every service needs to answer: etcd's response header (cluster and
/// member IDs, revision, Raft term) and the store's current revision.
protocol ResponseHeaders: Sendable {
    /// The header for an answer at `revision`; `term` nil means the
    /// member's current Raft term.
    func header(revision: Int64, term: UInt64?) -> Etcdserverpb.ResponseHeader
    var currentRevision: Int64 { get }
}

extension ResponseHeaders {
    func header(revision: Int64) -> Etcdserverpb.ResponseHeader { header(revision: revision, term: nil) }

    /// The header at the current revision.
    var currentHeader: Etcdserverpb.ResponseHeader { header(revision: currentRevision, term: nil) }
}

/// Proposes a request through Raft and waits until this member applied it
/// (the write half of etcd's RaftKV).
protocol Proposer: Sendable {
    /// The applied answer with the header etcd sends (revision after the
    /// write, term it was applied in). `identity` goes into the entry's
    /// header for the apply chain's auth stage.
    func proposeWrite(_ request: Swiftetcd.InternalRaftRequest,
                      as identity: RequestIdentity?) async throws -> (WriteResponse, Etcdserverpb.ResponseHeader)

    /// `proposeWrite` without a task, for the services' callback forms: nil
    /// when this proposer cannot (the caller takes the async path). Else
    /// `done` gets the same answer once, on whichever thread has it (the
    /// Raft loop's, once applied), and the returned hook withdraws the wait
    /// (its call ended first: `done` then gets `CancellationError`), as a
    /// cancelled task's does. Throws, proposing nothing, when `deadline` has
    /// passed or the request is too large. The request must have passed
    /// `Validation` (its apply may reuse it undecoded: `ProposalMemo`);
    /// `wire`, its KV request's bytes as received, must decode to it.
    func proposeWrite(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?, wire: ProposalBytes?,
                      deadline: NIODeadline?, done: @escaping @Sendable (Result<(WriteResponse, Etcdserverpb.ResponseHeader), Error>) -> Void)
        throws -> (@Sendable () -> Void)?
}

extension Proposer {
    /// Fakes in tests: the async path only.
    func proposeWrite(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?, wire: ProposalBytes?,
                      deadline: NIODeadline?, done: @escaping @Sendable (Result<(WriteResponse, Etcdserverpb.ResponseHeader), Error>) -> Void)
        throws -> (@Sendable () -> Void)? { nil }
}
