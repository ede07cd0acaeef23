/// Merges a stream's queued output so that each watcher's events that piled
/// up since its sender last ran go out as one `WatchResponse` (etcd sends a
/// catching-up watcher its events in batches the same way), instead of one
/// response per revision: when a stream falls behind, it sends fewer, larger
/// messages and catches up, rather than falling further behind.
///
/// Rules, so the order a client sees is one etcd could have sent:
/// - a watcher's later events join its earliest `.events` output still
///   open; the merged output keeps that position and takes the newest
///   revision (events stay in revision order within it);
/// - any other output of that watcher (`created`, `canceled`, `compacted`,
///   its own progress) closes its open output, so nothing of it moves
///   across;
/// - a stream-wide progress notification (watch ID -1) closes every open
///   output: it promises that every event up to its revision came before it,
///   and no event after it may move in front;
/// - an output closes once it holds `maxEvents` events or `maxBytes` bytes
///   of keys and values (a larger single output is left whole).
public enum WatchOutputBatcher {
    public static let defaultMaxEvents = 1000
    public static let defaultMaxBytes = 1 << 20

    /// Which queued outputs go out together, without copying any event:
    /// `heads` are the indices of the outputs that start a response, in
    /// sending order; `next[i]` is the index of the next `.events` output
    /// joined after output `i` (-1: none). A response's revision is its last
    /// joined output's. With nothing to merge this is one pass and one
    /// dictionary look-up per output.
    public struct Plan: Equatable, Sendable {
        public var heads: [Int]
        public var next: [Int]

        /// The outputs of the response starting at `head`, in order.
        public func chain(from head: Int) -> ChainSequence { ChainSequence(links: next, current: head) }

        public struct ChainSequence: Sequence, IteratorProtocol {
            let links: [Int]
            var current: Int

            public mutating func next() -> Int? {
                guard current >= 0 else { return nil }
                defer { current = links[current] }
                return current
            }
        }
    }

    public static func plan(_ outputs: [WatchOutput], maxEvents: Int = defaultMaxEvents,
                            maxBytes: Int = defaultMaxBytes) -> Plan {
        var heads: [Int] = []
        heads.reserveCapacity(outputs.count)
        var next = [Int](repeating: -1, count: outputs.count)
        /// Watch ID → its open `.events` response: head, last joined output, events and bytes so far.
        var open: [Int64: (tail: Int, events: Int, bytes: Int)] = [:]
        /// The last events array sized: a live revision's array is queued for every watcher it reaches, one after the other.
        var sized: (address: UInt, count: Int, bytes: Int) = (0, -1, 0)
        for (index, output) in outputs.enumerated() {
            switch output {
            case .events(let id, let events, _):
                let address = events.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
                if address != sized.address || events.count != sized.count {
                    var bytes = 0
                    for e in events { bytes &+= e.kv.key.count &+ e.kv.value.count }
                    sized = (address, events.count, bytes)
                }
                let bytes = sized.bytes
                // One hash per output: the open response is updated through its index.
                if let at = open.index(forKey: id) {
                    let o = open.values[at]
                    if o.events + events.count <= maxEvents, o.bytes + bytes <= maxBytes {
                        next[o.tail] = index
                        open.values[at] = (index, o.events + events.count, o.bytes + bytes)
                    } else {
                        open.values[at] = (index, events.count, bytes)
                        heads.append(index)
                    }
                } else {
                    open[id] = (index, events.count, bytes)
                    heads.append(index)
                }
            case .progress(let id, _) where id == -1:
                open.removeAll(keepingCapacity: true)
                heads.append(index)
            case .created(let id, _, _, _), .canceled(let id, _), .compacted(let id, _), .progress(let id, _):
                open.removeValue(forKey: id)
                heads.append(index)
            }
        }
        return Plan(heads: heads, next: next)
    }

    /// The plan's responses as outputs (merged events copied together).
    public static func merge(_ outputs: [WatchOutput], maxEvents: Int = defaultMaxEvents,
                             maxBytes: Int = defaultMaxBytes) -> [WatchOutput] {
        let p = plan(outputs, maxEvents: maxEvents, maxBytes: maxBytes)
        return p.heads.map { merged(outputs, p, head: $0) }
    }

    /// The response starting at `head` as one output.
    public static func merged(_ outputs: [WatchOutput], _ plan: Plan, head: Int) -> WatchOutput {
        guard plan.next[head] >= 0, case .events(let id, var events, _) = outputs[head] else { return outputs[head] }
        var revision: Int64 = 0
        for i in plan.chain(from: plan.next[head]) {
            if case .events(_, let more, let r) = outputs[i] {
                events.append(contentsOf: more)
                revision = r
            }
        }
        return .events(watchID: id, events: events, revision: revision)
    }
}
