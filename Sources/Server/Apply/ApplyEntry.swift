import Auth
import Logging
import MVCC
import Proto
import Raft

/// One committed Raft entry, decoded once (by `ApplyPipeline`) and then read
/// by every stage of the apply chain: the guards look at `request` (and at
/// `message` for what only the wire form says: a txn's put cost, or the
/// proposer's identity in `message.header` for the auth stage), the backend
/// applies `request`.
struct ApplyEntry {
    /// What the entry asks the member to do.
    enum Request {
        /// Nothing to apply (an empty entry, e.g. a new leader's, or a
        /// refused one): the store still records the index as applied.
        case noop
        /// A KV write: put, delete range, txn or compaction.
        case write(WriteRequest)
        case leaseGrant(id: Int64, ttlSeconds: Int64)
        case leaseRevoke(id: Int64)
        case leaseCheckpoint([StoredLease])
        case alarm(Etcdserverpb.AlarmRequest)
        /// An auth operation (users, roles, enable, authenticate): applied
        /// by the auth store; its records go into the entry's commit.
        case auth(AuthRequest)
        /// Maintenance.Downgrade ENABLE / CANCEL: the cluster's downgrade
        /// state, written to the store's `cluster` bucket.
        case downgrade(DowngradeInfo)
        /// etcd's v2 `PUT /0/members/<id>/attributes` (`V2Request`): a member
        /// published its name and client URLs (JSON as etcd writes it).
        case memberAttributes(memberID: UInt64, json: [UInt8])
        /// etcd's v2 `PUT /0/version`: the cluster version, e.g. "3.5.0".
        case clusterVersion(String)
        /// A Range through Raft: etcd proposes none; answered as a no-op, but
        /// refused like a write while the cluster is corrupt (as etcd does).
        case range
        /// A request kind this member does not apply (a newer member's).
        case unknown
        /// The entry does not decode (proposals are checked against the same
        /// limits, so only a foreign or damaged entry): refused with `error`
        /// (`ApplyChain`), applied as a no-op on every member alike.
        case undecodable(ServerError)
    }

    let index: UInt64
    /// The proposer's request ID; 0 when nobody waits for the answer.
    private(set) var id: UInt64
    private(set) var request: Request
    /// The decoded wire message (empty for empty or undecodable entries).
    let message: Swiftetcd.InternalRaftRequest

    init(index: UInt64, id: UInt64, request: Request, message: Swiftetcd.InternalRaftRequest) {
        self.index = index
        self.id = id
        self.request = request
        self.message = message
    }

    /// Decodes `entry`'s `InternalRaftRequest`. An entry that does not decode
    /// is logged and applied as a no-op: it never stops the member, now or
    /// at restart, and its proposer (if its ID can be read) gets an error
    /// rather than a timeout.
    init(decoding entry: Entry, logger: Logger) {
        guard entry.type == .normal, !entry.data.isEmpty else {
            self.init(index: entry.index, id: 0, request: .noop, message: Swiftetcd.InternalRaftRequest())
            return
        }
        // etcd's v2 requests are the entry's whole data; an
        // InternalRaftRequest never starts with a bare method (field 2).
        if let v2 = V2Request(decoding: entry.data) {
            let request: Request
            switch v2.meaning {
            case .memberAttributes(let id, let json): request = .memberAttributes(memberID: id, json: json)
            case .clusterVersion(let version): request = .clusterVersion(version)
            case .other: request = .noop
            }
            self.init(index: entry.index, id: v2.id, request: request, message: Swiftetcd.InternalRaftRequest())
            return
        }
        let message: Swiftetcd.InternalRaftRequest
        do {
            message = try entry.data.withUnsafeBytes { try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }
        } catch {
            logger.error("undecodable raft entry applied as a noop", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            let answer = (error as? ProtoDecodeError) == .nestingTooDeep
                ? ServerError.tooManyOps : ServerError(code: .internal, message: "etcdserver: undecodable raft entry: \(error)")
            self.init(index: entry.index, id: Self.requestID(entry.data) ?? 0, request: .undecodable(answer),
                      message: Swiftetcd.InternalRaftRequest())
            return
        }
        self.init(index: entry.index, message: message, logger: logger)
    }

    /// `message`, the entry at `index` decoded (or its proposer's own copy,
    /// `ProposalMemo`).
    init(index: UInt64, message: Swiftetcd.InternalRaftRequest, logger: Logger) {
        let request = Self.request(of: message)
        if case .unknown = request {
            logger.warning("raft entry with a request this member does not apply yet", metadata: ["index": "\(index)"])
        }
        self.init(index: index, id: message.id, request: request, message: message)
    }

    private static func request(of m: Swiftetcd.InternalRaftRequest) -> Request {
        if let put = m.put { return .write(.put(KVMapping.put(put))) }
        if let del = m.deleteRange { return .write(.deleteRange(KVMapping.deleteRange(del))) }
        if let txn = m.txn { return .write(.txn(KVMapping.txn(txn))) }
        if let compaction = m.compaction { return .write(.compact(KVMapping.compaction(compaction))) }
        if let grant = m.leaseGrant { return .leaseGrant(id: grant.id, ttlSeconds: grant.ttl) }
        if let revoke = m.leaseRevoke { return .leaseRevoke(id: revoke.id) }
        if let cp = m.leaseCheckpoint {
            return .leaseCheckpoint(cp.checkpoints.map { StoredLease(id: $0.id, ttlSeconds: 0, remainingTTLSeconds: $0.remainingTTL) })
        }
        if let alarm = m.alarm { return .alarm(alarm) }
        if m.range != nil { return .range }
        if let auth = AuthRequest(m) { return .auth(auth) }
        if let d = m.downgradeInfoSet { return .downgrade(DowngradeInfo(enabled: d.enabled, targetVersion: d.enabled ? d.ver : "")) }
        return .unknown
    }

    /// The entry with its request dropped, once a guard refused it and its
    /// proposer was answered: the backend records the index, nothing else.
    func refused() -> ApplyEntry {
        ApplyEntry(index: index, id: 0, request: .noop, message: message)
    }
}
