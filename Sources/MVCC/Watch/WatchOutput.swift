/// What a watch stream sends, in the order the hub queued it. One queue per
/// stream keeps etcd's ordering rules for free: a watcher's `created` comes
/// before its events, a `canceled` after its last event, and a progress
/// notification after every event at or below its revision.
public enum WatchOutput: Equatable, Sendable {
    /// Answer to a create; `canceled` with `reason` when it was refused.
    case created(watchID: Int64, revision: Int64, canceled: Bool, reason: String)
    case canceled(watchID: Int64, revision: Int64)
    /// Events of one revision (live) or of a catch-up chunk, in revision order.
    case events(watchID: Int64, events: [Event], revision: Int64)
    /// The watcher fell behind the compaction point and is canceled (etcd
    /// sends header revision 0 then).
    case compacted(watchID: Int64, compactRevision: Int64)
    /// Nothing new up to `revision` (watchID -1: answer to a progress request).
    case progress(watchID: Int64, revision: Int64)

    public var watchID: Int64 {
        switch self {
        case .created(let id, _, _, _), .canceled(let id, _), .events(let id, _, _), .compacted(let id, _), .progress(let id, _):
            return id
        }
    }
}

/// A watcher's parameters, as a create request gives them (key already
/// defaulted: empty → "\0").
public struct WatchSpec: Equatable, Sendable {
    public var key: [UInt8]
    /// Empty: only `key`; `[0]`: every key ≥ `key`; else [key, rangeEnd).
    public var rangeEnd: [UInt8] = []
    /// First revision to deliver; 0 = the next revision.
    public var startRevision: Int64 = 0
    /// Client-chosen ID; 0 = assigned by the server (etcd's AutoWatchID).
    public var watchID: Int64 = 0
    public var noPut = false
    public var noDelete = false
    public var progressNotify = false
    public var prevKV = false
    public var fragment = false

    public init(key: [UInt8], rangeEnd: [UInt8] = [], startRevision: Int64 = 0, watchID: Int64 = 0,
                noPut: Bool = false, noDelete: Bool = false, progressNotify: Bool = false,
                prevKV: Bool = false, fragment: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.startRevision = startRevision
        self.watchID = watchID
        self.noPut = noPut
        self.noDelete = noDelete
        self.progressNotify = progressNotify
        self.prevKV = prevKV
        self.fragment = fragment
    }

    public func contains(_ k: [UInt8]) -> Bool {
        if rangeEnd.isEmpty { return k == key }
        if !key.lexicographicallyPrecedes(k) && key != k { return false }
        if rangeEnd == [0] { return true }
        return k.lexicographicallyPrecedes(rangeEnd)
    }

    public func passes(_ e: Event) -> Bool {
        switch e.type {
        case .put: return !noPut
        case .delete: return !noDelete
        }
    }
}

/// One watcher. Mutable fields are guarded by the hub's lock.
final class Watcher {
    let id: Int64
    let spec: WatchSpec
    /// Strong: the cycle with `WatchStream.watchers` is broken by `WatchHub.close`.
    let stream: WatchStream
    /// Next revision this watcher has not been given.
    var minRevision: Int64
    var isSynced = false
    var isCanceled = false
    /// Events queued on the stream and not yet taken by its sender.
    var queuedEvents = 0
    var queuedBytes = 0
    /// Whether events went out since the last progress tick.
    var sentSinceTick = false
    /// The stream's `takes` when a periodic progress notification was last
    /// queued for it: while they are equal, that one is still waiting.
    var progressQueuedAtTake = -1

    init(id: Int64, spec: WatchSpec, stream: WatchStream, minRevision: Int64) {
        self.id = id
        self.spec = spec
        self.stream = stream
        self.minRevision = minRevision
    }
}

/// One gRPC Watch stream's state; mutable fields guarded by the hub's lock.
public final class WatchStream {
    var watchers: [Int64: Watcher] = [:] {
        didSet { watchersGeneration &+= 1 }
    }
    /// Changes whenever `watchers` does: `take` refills a sender's delivery options only then.
    private(set) var watchersGeneration = 0
    /// `watchersGeneration` when `take` last filled the sender's options (-1: never).
    var optionsGeneration = -1
    /// The watchers with events queued since the last `take` (whose counters it resets), each once.
    var queuedWatchers: [Watcher] = []
    var nextID: Int64 = 0
    var queue: [WatchOutput] = []
    /// How many times its sender took the queue.
    var takes = 0
    /// Keys' and values' bytes of the events in `queue` (all its watchers';
    /// a live revision's shared array counted once), reset by `take`.
    var queuedBytes = 0
    /// The live revision whose shared events `queuedBytes` already counts (0: none).
    var chargedRevision: Int64 = 0
    /// Live event outputs queued since the last `take`, charged to the shared
    /// budget in blocks of `WatchHub.outputsPerCharge` (`WatchHub.chargeOutput`).
    var chargedOutputs = 0
    var isClosed = false
    /// Tells the stream's sender there is output (thread-safe, non-blocking).
    let wake: @Sendable () -> Void

    init(wake: @escaping @Sendable () -> Void) { self.wake = wake }
}

/// What a stream's sender needs to know of a watcher to send its events.
public struct WatchDelivery: Equatable, Sendable {
    public var prevKV: Bool
    public var fragment: Bool

    public init(prevKV: Bool, fragment: Bool) {
        self.prevKV = prevKV
        self.fragment = fragment
    }
}
