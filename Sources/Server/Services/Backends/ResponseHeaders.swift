import MVCC
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
}
