/// A lease as the store persists it (etcd's `leasepb.Lease`): its ID, the
/// TTL it was granted with (seconds) and the remaining TTL last checkpointed
/// (seconds, 0 = none). Expiry times are not persisted: a new leader restarts
/// every lease's clock (etcd's Promote).
public struct StoredLease: Equatable, Sendable {
    public var id: Int64
    public var ttlSeconds: Int64
    public var remainingTTLSeconds: Int64

    public init(id: Int64, ttlSeconds: Int64, remainingTTLSeconds: Int64 = 0) {
        self.id = id
        self.ttlSeconds = ttlSeconds
        self.remainingTTLSeconds = remainingTTLSeconds
    }
}
