import GRPCWire
import Proto

/// Who sent a request, as the auth layer resolved it (issue 15): the user
/// and the auth revision its permissions were checked at. Proposals carry
/// both in their Raft header, so the apply chain's auth stage can refuse a
/// write whose permission changed in between.
struct RequestIdentity: Sendable, Equatable {
    var username: String
    var authRevision: UInt64
}

/// What a request is about to do, as a permission check sees it.
enum RequestAction: Sendable {
    /// Reads of `key` (up to `rangeEnd`, etcd's range semantics).
    case read(key: [UInt8], rangeEnd: [UInt8])
    /// Writes of `key` (up to `rangeEnd`); `alsoReads` for prev_kv.
    case write(key: [UInt8], rangeEnd: [UInt8], alsoReads: Bool)
    /// A txn: every compare and every op of every branch.
    case txn(Etcdserverpb.TxnRequest)
    /// Lease operations that touch the lease's keys (revoke).
    case lease(id: Int64)
    /// Cluster administration: member changes, defrag, snapshot, hash,
    /// move-leader, alarm disarm, compaction, auth management (root only).
    case admin
    /// Open to everyone (Status, health, authenticate, lease keep-alives).
    case open
}

/// The single place where a service asks whether a request may run: every
/// handler's first step is `try await access.check(action, context)`, and
/// what it returns is stamped on any proposal the handler makes.
///
/// `OpenAccess` (no authentication) lets everything through; issue 15's
/// auth store conforms to this protocol and is handed to the services in
/// `EtcdServer.registerServices`.
protocol RequestAccess: Sendable {
    /// Resolves the caller from the request's metadata (the `token`, or a
    /// client certificate's CN) and checks `action`; throws etcd's auth
    /// errors. Returns nil when authentication is off.
    func check(_ action: RequestAction, _ context: GRPCRequestContext) async throws -> RequestIdentity?

    /// After a read served locally (Range, read-only Txn): fails it when the
    /// auth store changed since `identity` was checked (etcd's doSerialize).
    func confirm(_ identity: RequestIdentity?) throws

    /// True when `check` would let any action through anonymously (nil)
    /// without waiting: the caller may skip it (the event-loop fast path).
    /// False whenever unsure; the caller then calls `check`.
    func isAnonymousWithoutWaiting(_ context: GRPCRequestContext) -> Bool
}

extension RequestAccess {
    func confirm(_ identity: RequestIdentity?) throws {}
    func isAnonymousWithoutWaiting(_ context: GRPCRequestContext) -> Bool { false }
}

/// Authentication off: every request runs, anonymously.
struct OpenAccess: RequestAccess {
    func check(_ action: RequestAction, _ context: GRPCRequestContext) async throws -> RequestIdentity? { nil }
    func isAnonymousWithoutWaiting(_ context: GRPCRequestContext) -> Bool { true }
}
