/// A linearizable read the application may serve once it has applied up to
/// `index` (ReadIndex, thesis 6.4). `context` identifies the request.
public struct ReadState: Sendable, Hashable {
    public var index: UInt64
    public var context: [UInt8]

    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

/// The leader's pending ReadIndex requests, each waiting for a quorum of
/// heartbeat acknowledgements carrying its context. Requests are confirmed
/// in order: an ack for a later request confirms every earlier one.
struct ReadOnly {
    struct Pending {
        var index: UInt64
        /// The original request: `from` is the node to answer (self for local reads).
        var request: Message
        var acks: Set<UInt64>
    }

    private(set) var pending: [[UInt8]: Pending] = [:]
    private(set) var queue: [[UInt8]] = []
    /// Bound on outstanding requests; more are dropped (the caller retries).
    let maxPending = 4096

    mutating func add(index: UInt64, request m: Message, selfID: UInt64) {
        guard pending[m.context] == nil, queue.count < maxPending else { return }
        pending[m.context] = Pending(index: index, request: m, acks: [selfID])
        queue.append(m.context)
    }

    /// Records a heartbeat ack; returns the number of acks for that context.
    mutating func recvAck(from id: UInt64, context: [UInt8]) -> Set<UInt64>? {
        guard pending[context] != nil else { return nil }
        pending[context]!.acks.insert(id)
        return pending[context]!.acks
    }

    /// Removes and returns every request up to and including `context`.
    mutating func advance(through context: [UInt8]) -> [Pending] {
        guard let pos = queue.firstIndex(of: context) else { return [] }
        var done: [Pending] = []
        for ctx in queue[...pos] {
            if let p = pending.removeValue(forKey: ctx) { done.append(p) }
        }
        queue.removeSubrange(...pos)
        return done
    }

    var lastPendingContext: [UInt8]? { queue.last }

    mutating func reset() {
        pending.removeAll()
        queue.removeAll()
    }
}
