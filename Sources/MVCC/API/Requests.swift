/// Request types mirroring etcdserverpb's KV messages (field names as the
/// proto's, in Swift case). Byte strings are `[UInt8]`; an empty array is
/// an absent field, as in proto3.

public struct RangeRequest: Equatable, Sendable {
    public enum SortOrder: Int, Sendable { case none = 0, ascend = 1, descend = 2 }
    public enum SortTarget: Int, Sendable { case key = 0, version = 1, create = 2, mod = 3, value = 4 }

    public var key: [UInt8]
    /// Empty: only `key`. `[0]`: every key ≥ `key`. Otherwise the half-open range [key, rangeEnd).
    public var rangeEnd: [UInt8]
    public var limit: Int64
    /// 0 or negative: current revision.
    public var revision: Int64
    public var sortOrder: SortOrder
    public var sortTarget: SortTarget
    /// Accepted and ignored by the store: every store read is local.
    public var serializable: Bool
    public var keysOnly: Bool
    public var countOnly: Bool
    public var minModRevision: Int64
    public var maxModRevision: Int64
    public var minCreateRevision: Int64
    public var maxCreateRevision: Int64

    public init(key: [UInt8], rangeEnd: [UInt8] = [], limit: Int64 = 0, revision: Int64 = 0,
                sortOrder: SortOrder = .none, sortTarget: SortTarget = .key,
                serializable: Bool = false, keysOnly: Bool = false, countOnly: Bool = false,
                minModRevision: Int64 = 0, maxModRevision: Int64 = 0,
                minCreateRevision: Int64 = 0, maxCreateRevision: Int64 = 0) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.limit = limit
        self.revision = revision
        self.sortOrder = sortOrder
        self.sortTarget = sortTarget
        self.serializable = serializable
        self.keysOnly = keysOnly
        self.countOnly = countOnly
        self.minModRevision = minModRevision
        self.maxModRevision = maxModRevision
        self.minCreateRevision = minCreateRevision
        self.maxCreateRevision = maxCreateRevision
    }
}

public struct PutRequest: Equatable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var lease: Int64
    public var prevKV: Bool
    public var ignoreValue: Bool
    public var ignoreLease: Bool

    public init(key: [UInt8], value: [UInt8] = [], lease: Int64 = 0, prevKV: Bool = false,
                ignoreValue: Bool = false, ignoreLease: Bool = false) {
        self.key = key
        self.value = value
        self.lease = lease
        self.prevKV = prevKV
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}

public struct DeleteRangeRequest: Equatable, Sendable {
    public var key: [UInt8]
    /// As `RangeRequest.rangeEnd`.
    public var rangeEnd: [UInt8]
    public var prevKV: Bool

    public init(key: [UInt8], rangeEnd: [UInt8] = [], prevKV: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.prevKV = prevKV
    }
}

/// etcd's `Compare`. `targetValue` is the proto's `target_union` oneof: etcd
/// reads it only when its case matches `target`, otherwise compares against
/// 0 (or the empty value).
public struct Compare: Equatable, Sendable {
    /// `unrecognized`: a value this API version does not define (proto3
    /// enums are open); etcd's compare then falls through its switches.
    public enum Result: Int, Sendable { case equal = 0, greater = 1, less = 2, notEqual = 3, unrecognized = -1 }
    public enum Target: Int, Sendable { case version = 0, create = 1, mod = 2, value = 3, lease = 4, unrecognized = -1 }
    public enum TargetValue: Equatable, Sendable {
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case value([UInt8])
        case lease(Int64)
    }

    public var result: Result
    public var target: Target
    public var key: [UInt8]
    public var targetValue: TargetValue?
    /// As `RangeRequest.rangeEnd`: compare every key in the range.
    public var rangeEnd: [UInt8]

    public init(key: [UInt8], target: Target, result: Result, _ targetValue: TargetValue?, rangeEnd: [UInt8] = []) {
        self.key = key
        self.target = target
        self.result = result
        self.targetValue = targetValue
        self.rangeEnd = rangeEnd
    }
}

/// One operation of a txn branch. `.empty` is a RequestOp with no request set
/// (etcd rejects it with `etcdserver: key not found`).
///
/// Only `.txn` is boxed (it nests): the other ops sit inline in their
/// branch's array instead of costing a heap allocation each.
public enum RequestOp: Equatable, Sendable {
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    indirect case txn(TxnRequest)
    case empty
}

public struct TxnRequest: Equatable, Sendable {
    public var compare: [Compare]
    public var success: [RequestOp]
    public var failure: [RequestOp]

    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }

    /// etcd's `isTxnReadonly`: every op of both branches is a Range. Only
    /// such a txn is served without Raft; one with a nested txn or an empty
    /// op goes through Raft even when it writes nothing, as in etcd 3.5.1,
    /// so it takes a Raft index there too (`endpoint status`'s raftIndex and
    /// the consistent index in a snapshot stay etcd's for the same requests).
    public var isServedWithoutRaft: Bool {
        func isRange(_ op: RequestOp) -> Bool { if case .range = op { true } else { false } }
        return success.allSatisfy(isRange) && failure.allSatisfy(isRange)
    }

    /// True when no branch, at any depth, contains a Put or DeleteRange: the
    /// txn changes nothing and takes no revision.
    public var isReadOnly: Bool {
        func readOnly(_ ops: [RequestOp]) -> Bool {
            ops.allSatisfy {
                switch $0 {
                case .put, .deleteRange: return false
                case .txn(let t): return t.isReadOnly
                case .range, .empty: return true
                }
            }
        }
        return readOnly(success) && readOnly(failure)
    }

    /// True when each branch holds no nested txn and at most one Put or
    /// DeleteRange, as its last op (Kubernetes' create and compare-and-swap:
    /// a Put, or a Put with a Range in the other branch): once that write
    /// made a change, no op of the txn is left to fail.
    public var writesLastAndOnce: Bool {
        func once(_ ops: [RequestOp]) -> Bool {
            for (i, op) in ops.enumerated() {
                switch op {
                case .put, .deleteRange: if i != ops.count - 1 { return false }
                case .txn: return false
                case .range, .empty: continue
                }
            }
            return true
        }
        return once(success) && once(failure)
    }
}

public struct CompactionRequest: Equatable, Sendable {
    public var revision: Int64
    /// When true the caller should wait (see `MVCCStore.waitForCompaction`)
    /// until superseded revisions are physically removed before answering.
    public var physical: Bool

    public init(revision: Int64, physical: Bool = false) {
        self.revision = revision
        self.physical = physical
    }
}

/// A request that changes the store; applied in Raft log order.
public enum WriteRequest: Equatable, Sendable {
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    case txn(TxnRequest)
    case compact(CompactionRequest)
    /// Records the entry's index only (for Raft entries that do not touch the
    /// KV store, e.g. lease grants or conf changes), so the consistent index
    /// keeps up.
    case noop
    /// Persists a granted lease (the server decided ID and TTL); the
    /// response is `.noop`, no revision change.
    case leaseGrant(StoredLease)
    /// Removes the lease and deletes, in one revision, each of `keys` that is
    /// still attached to it; the response is `.deleteRange`.
    case leaseRevoke(id: Int64, keys: [[UInt8]])
    /// Records remaining TTLs of existing leases (etcd's LeaseCheckpoint);
    /// the response is `.noop`. Unknown IDs are skipped.
    case leaseCheckpoint([StoredLease])
    /// Puts or deletes records of small named buckets (etcd's auth buckets)
    /// in the entry's commit; the response is `.noop`, no revision change.
    case bucketRecords([BucketRecord])
}

/// One record of a named bucket kept beside the keys (see `MVCCStore.bucketRecords`).
public struct BucketRecord: Equatable, Sendable {
    public var bucket: String
    public var key: [UInt8]
    /// nil deletes the record.
    public var value: [UInt8]?

    public init(bucket: String, key: [UInt8], value: [UInt8]?) {
        self.bucket = bucket
        self.key = key
        self.value = value
    }
}
