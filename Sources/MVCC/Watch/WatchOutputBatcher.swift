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

    public static func merge(_ outputs: [WatchOutput], maxEvents: Int = defaultMaxEvents,
                      maxBytes: Int = defaultMaxBytes) -> [WatchOutput] {
        guard outputs.count > 1 else { return outputs }
        var result: [WatchOutput] = []
        result.reserveCapacity(outputs.count)
        /// Watch ID → its open `.events` output: index in `result`, events and bytes so far.
        var open: [Int64: (index: Int, events: Int, bytes: Int)] = [:]
        /// Index in `result` → events merged into it (and the newest revision), patched in at the end.
        var joined: [Int: (events: [Event], revision: Int64)] = [:]
        for output in outputs {
            switch output {
            case .events(let id, let events, let revision):
                let bytes = events.reduce(0) { $0 + $1.kv.key.count + $1.kv.value.count }
                if let o = open[id], o.events + events.count <= maxEvents, o.bytes + bytes <= maxBytes {
                    joined[o.index, default: ([], revision)].events.append(contentsOf: events)
                    joined[o.index]!.revision = revision
                    open[id] = (o.index, o.events + events.count, o.bytes + bytes)
                } else {
                    open[id] = (result.count, events.count, bytes)
                    result.append(output)
                }
            case .progress(let id, _) where id == -1:
                open.removeAll(keepingCapacity: true)
                result.append(output)
            case .created(let id, _, _, _), .canceled(let id, _), .compacted(let id, _), .progress(let id, _):
                open.removeValue(forKey: id)
                result.append(output)
            }
        }
        for (index, extra) in joined {
            if case .events(let id, let first, _) = result[index] {
                result[index] = .events(watchID: id, events: first + extra.events, revision: extra.revision)
            }
        }
        return result
    }
}
