import Logging
import MVCC
import NIOCore
import Proto

/// What the KV service needs from the member (etcd's RaftKV): local reads
/// after a linearizable barrier, writes through Raft, and headers. A fake
/// conforms to it in tests; `EtcdServer` in production.
protocol KVBackend: ResponseHeaders, Proposer {
    /// etcd's --max-txn-ops.
    var maxTxnOps: Int { get }
    /// Returns once a linearizable read may be served from the local store.
    func linearizableBarrier() async throws
    /// `linearizableBarrier` without a task, for the KV service's callback
    /// forms: nil when this backend cannot (the caller takes the async
    /// path). Else `done` runs once, on the thread that has the answer (the
    /// Raft loop's), with nil once the read may be served or the error
    /// ("request timed out" when no leader answers in time); the returned
    /// hook withdraws the wait (`done` then gets `CancellationError`).
    /// Always waits for a ReadIndex round: check `readsLocally` first.
    /// Throws, waiting for nothing, when `deadline` has passed.
    func linearizableBarrier(deadline: NIODeadline?,
                             done: @escaping @Sendable (Error?) -> Void) throws -> (@Sendable () -> Void)?
    /// True while `linearizableBarrier` would return at once (the sole
    /// member's local read gate is open); false when unsure.
    var readsLocally: Bool { get }
    func range(_ request: RangeRequest) throws -> RangeResponse
    /// `range` encoded as etcd's RangeResponse after `headroom` zero bytes,
    /// with the header `header(revision)` encodes; nil when the backend cannot (then `range`).
    func rangeEncoded(_ request: RangeRequest, headroom: Int, header: (Int64) -> [UInt8]) throws -> EncodedRange?
    func readOnlyTxn(_ txn: TxnRequest) throws -> TxnResponse
    /// Returns once the compaction at `revision` has removed the old
    /// revisions (Compact with `physical`); blocks no event loop.
    func waitForCompaction(_ revision: Int64) async
    /// Warns about slow local reads (`--experimental-warning-apply-duration`).
    var slow: SlowWarnings { get }
}

extension KVBackend {
    /// Unknown (fakes in tests): every linearizable read takes the barrier.
    var readsLocally: Bool { false }
    /// Fakes in tests: the async path only.
    func linearizableBarrier(deadline: NIODeadline?,
                             done: @escaping @Sendable (Error?) -> Void) throws -> (@Sendable () -> Void)? { nil }
    /// Fakes in tests: `range` only.
    func rangeEncoded(_ request: RangeRequest, headroom: Int, header: (Int64) -> [UInt8]) throws -> EncodedRange? { nil }
    /// etcd's default thresholds (fakes in tests).
    var slow: SlowWarnings { SlowWarnings(logger: Logger(label: "kv")) }
}

/// What the Lease service needs: grants and revokes through Raft, the
/// leader's lessor for keep-alives and TTLs.
protocol LeaseBackend: ResponseHeaders, Proposer {
    /// A fresh request ID (a lease ID when the client asks for none).
    func nextRequestID() -> UInt64
    /// Renews on the leader (forwarding from a follower); the new TTL.
    func renewLease(_ id: Int64) async throws -> Int64
    /// `renewLease` answered at once, or nil when it would wait or throw.
    func renewLeaseWithoutWaiting(_ id: Int64) -> Int64?
    /// The lease's TTL as the leader sees it; nil when it does not exist.
    func leaseTimeToLive(_ id: Int64) async throws -> Lessor.TimeToLive?
    func leaseIDs() -> [Int64]
    /// The TTL a grant of `id` asking `requestedSeconds` got once applied.
    func grantedTTLSeconds(_ id: Int64, requestedSeconds: Int64) -> Int64
}

/// What the Watch service needs: the watchable store and prev_kv reads.
protocol WatchBackend: ResponseHeaders {
    var watchHub: WatchHub { get }
    /// The key's value at `revision` (nil when absent or compacted).
    func value(of key: [UInt8], at revision: Int64) -> KeyValue?
}

/// What the Cluster service needs: the member table and conf changes.
protocol ClusterBackend: ResponseHeaders {
    var members: [ClusterMember] { get }
    func addMember(peerURLs: [String], learner: Bool) async throws -> ClusterMember
    func removeMember(_ id: UInt64) async throws
    func updateMember(_ id: UInt64, peerURLs: [String]) async throws
    func promoteMember(_ id: UInt64) async throws
}
