/// Response types. `revision` is what etcd puts in the response header: for
/// writes the store revision after the op, for reads the revision read at
/// (the current one unless noted). The server adds cluster/member id and term.

public struct RangeResponse: Equatable, Sendable {
    public var revision: Int64
    public var kvs: [KeyValue]
    public var more: Bool
    public var count: Int64

    public init(revision: Int64, kvs: [KeyValue] = [], more: Bool = false, count: Int64 = 0) {
        self.revision = revision
        self.kvs = kvs
        self.more = more
        self.count = count
    }
}

public struct PutResponse: Equatable, Sendable {
    public var revision: Int64
    public var prevKV: KeyValue?

    public init(revision: Int64, prevKV: KeyValue? = nil) {
        self.revision = revision
        self.prevKV = prevKV
    }
}

public struct DeleteRangeResponse: Equatable, Sendable {
    public var revision: Int64
    public var deleted: Int64
    public var prevKVs: [KeyValue]

    public init(revision: Int64, deleted: Int64 = 0, prevKVs: [KeyValue] = []) {
        self.revision = revision
        self.deleted = deleted
        self.prevKVs = prevKVs
    }
}

public indirect enum ResponseOp: Equatable, Sendable {
    case range(RangeResponse)
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)
    case txn(TxnResponse)
}

public struct TxnResponse: Equatable, Sendable {
    /// Header revision. For a nested txn etcd leaves its header revision at 0;
    /// so does this store, to answer identically.
    public var revision: Int64
    public var succeeded: Bool
    public var responses: [ResponseOp]

    public init(revision: Int64, succeeded: Bool, responses: [ResponseOp] = []) {
        self.revision = revision
        self.succeeded = succeeded
        self.responses = responses
    }
}

public struct CompactionResponse: Equatable, Sendable {
    public var revision: Int64
    public init(revision: Int64) { self.revision = revision }
}

public enum WriteResponse: Equatable, Sendable {
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)
    case txn(TxnResponse)
    case compact(CompactionResponse)
    case noop(revision: Int64)

    /// The header revision of any response kind.
    public var revision: Int64 {
        switch self {
        case .put(let r): return r.revision
        case .deleteRange(let r): return r.revision
        case .txn(let r): return r.revision
        case .compact(let r): return r.revision
        case .noop(let rev): return rev
        }
    }
}

/// The outcome of `MVCCStore.apply(batch:)`: one result per request, in
/// order, and every event the batch produced, in revision order.
public struct BatchResult: Sendable {
    public var results: [Result<WriteResponse, MVCCError>]
    public var events: [Event]

    public init(results: [Result<WriteResponse, MVCCError>], events: [Event]) {
        self.results = results
        self.events = events
    }
}
