/// One version of a key, as etcd's `mvccpb.KeyValue`.
///
/// `version` counts puts since the key's creation (1 after the first put); a
/// delete writes a tombstone and the next put starts a new generation with
/// version 1 and a new `createRevision`. `lease` is 0 when the key has none.
public struct KeyValue: Equatable, Hashable, Sendable {
    public var key: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var value: [UInt8]
    public var lease: Int64

    public init(key: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0,
                version: Int64 = 0, value: [UInt8] = [], lease: Int64 = 0) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }
}

/// A change produced by a write, for the watch layer (etcd's `mvccpb.Event`).
///
/// For a delete, `kv` holds only the key and `modRevision` (the deleting
/// revision), as etcd's watchable store sends it. `prevKV` is filled only by
/// history reads that ask for it; writes leave it nil.
public struct Event: Equatable, Sendable {
    public enum EventType: Int, Sendable { case put = 0, delete = 1 }
    public var type: EventType
    public var kv: KeyValue
    public var prevKV: KeyValue?

    public init(type: EventType, kv: KeyValue, prevKV: KeyValue? = nil) {
        self.type = type
        self.kv = kv
        self.prevKV = prevKV
    }
}
