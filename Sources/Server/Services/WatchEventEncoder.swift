import MVCC
import Proto
import Support

/// Encodes a watch stream's event responses with the work shared across its
/// watchers: when a put reaches 1,000 watchers of one stream, its event (and
/// its prev_kv, read from the store) is converted and encoded once, the
/// header once per revision, and each watcher's response is those bytes
/// around its own watch ID.
///
/// The bytes are exactly what encoding the whole `Etcdserverpb.WatchResponse`
/// gives (fields in number order: header 1, watch_id 2, events 11; proto3
/// leaves a zero watch ID out), so clients see no difference.
///
/// One encoder serves one batch of a stream's outputs (its caches grow with
/// the batch and go with it). Not thread-safe.
struct WatchEventEncoder {
    /// The response header for a revision.
    let header: (Int64) -> Etcdserverpb.ResponseHeader
    /// A key's value at a revision (for prev_kv), nil if none or compacted away.
    let previous: ([UInt8], Int64) -> KeyValue?

    /// Revision → the encoded header field.
    private var headers: [Int64: [UInt8]] = [:]
    /// An event (and whether with prev_kv) → the encoded events field.
    private var encodedEvents: [EventKey: [UInt8]] = [:]
    /// An event array (by its storage: the hub gives every watcher a live
    /// revision reaches the same array) → its events' fields, one after the
    /// other. The array is kept so its storage cannot be reused while cached.
    private var encodedArrays: [ArrayKey: (events: [Event], fields: [UInt8])] = [:]

    /// The parts of the last response built and their fields, joined: the
    /// next watcher's response usually has the very same parts (every
    /// watcher of a prefix got the same revisions since the last send), and
    /// then reuses them without a look-up per part. Every array named here is
    /// kept alive by `encodedArrays`, so an address cannot be reused.
    private var lastParts: [ArrayKey] = []
    private var lastFields: [UInt8] = []
    private var parts: [ArrayKey] = []

    private struct ArrayKey: Hashable {
        var address: UInt
        var count: Int
        var prevKV: Bool
    }

    private struct EventKey: Hashable {
        var revision: Int64
        var key: [UInt8]
        var isPut: Bool
        var prevKV: Bool
    }

    init(header: @escaping (Int64) -> Etcdserverpb.ResponseHeader, previous: @escaping ([UInt8], Int64) -> KeyValue?) {
        self.header = header
        self.previous = previous
    }

    /// The encoded `WatchResponse` of `events` for `watchID` at `revision`.
    mutating func response(watchID: Int64, events: [Event], revision: Int64, prevKV: Bool) -> [UInt8] {
        response(watchID: watchID, parts: CollectionOfOne(events), revision: revision, prevKV: prevKV)
    }

    /// The encoded `WatchResponse` of the events of `parts`, one after the
    /// other, for `watchID` at `revision`: a watcher's merged outputs, sent
    /// without copying their events into one array first.
    mutating func response<Parts: Sequence>(watchID: Int64, parts: Parts, revision: Int64,
                                            prevKV: Bool) -> [UInt8] where Parts.Element == [Event] {
        let head = headerField(revision)
        self.parts.removeAll(keepingCapacity: true)
        for events in parts { self.parts.append(Self.key(events, prevKV: prevKV)) }
        if self.parts != lastParts {
            var joined: [UInt8] = []
            for events in parts { joined.append(contentsOf: eventsFields(events, prevKV: prevKV)) }
            swap(&lastParts, &self.parts)
            lastFields = joined
        }
        var out: [UInt8] = []
        out.reserveCapacity(head.count + 11 + lastFields.count)
        out.append(contentsOf: head)
        if watchID != 0 {
            out.append(0x10)  // field 2, varint
            ProtoVarint.append(UInt64(bitPattern: watchID), to: &out)
        }
        out.append(contentsOf: lastFields)
        return out
    }

    private static func key(_ events: [Event], prevKV: Bool) -> ArrayKey {
        let address = events.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        return ArrayKey(address: address, count: events.count, prevKV: prevKV)
    }

    /// The `Mvccpb.Event` a watcher is sent: etcd fills prev_kv by reading
    /// the key at modRevision - 1 (skipped for creations, and when compacted
    /// away meanwhile).
    func event(_ e: Event, prevKV: Bool) -> Mvccpb.Event {
        var out = Mvccpb.Event()
        out.type = e.type == .put ? .put : .delete
        out.kv = KVMapping.keyValue(e.kv)
        let isCreate = e.type == .put && e.kv.version == 1
        if prevKV && !isCreate, let prev = previous(e.kv.key, e.kv.modRevision - 1) {
            out.prevKv = KVMapping.keyValue(prev)
        }
        return out
    }

    private mutating func headerField(_ revision: Int64) -> [UInt8] {
        if let h = headers[revision] { return h }
        let h = Self.field(1, header(revision).serializedBytes())
        headers[revision] = h
        return h
    }

    /// The events fields of all of `events`, encoded once per array.
    private mutating func eventsFields(_ events: [Event], prevKV: Bool) -> [UInt8] {
        let key = Self.key(events, prevKV: prevKV)
        if let cached = encodedArrays[key] { return cached.fields }
        var fields: [UInt8]
        if events.count == 1 {
            fields = eventField(events[0], prevKV: prevKV)
        } else {
            fields = []
            for e in events { fields.append(contentsOf: eventField(e, prevKV: prevKV)) }
        }
        encodedArrays[key] = (events, fields)
        return fields
    }

    private mutating func eventField(_ e: Event, prevKV: Bool) -> [UInt8] {
        let key = EventKey(revision: e.kv.modRevision, key: e.kv.key, isPut: e.type == .put, prevKV: prevKV)
        if let f = encodedEvents[key] { return f }
        let f = Self.field(11, event(e, prevKV: prevKV).serializedBytes())
        encodedEvents[key] = f
        return f
    }

    /// A length-delimited field: tag, length, bytes.
    static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 6)
        ProtoVarint.append(number << 3 | 2, to: &out)
        ProtoVarint.append(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
        return out
    }
}
