/// A byte bound several owners share: the server's budget for answers that
/// wait for slow clients (GRPCWire's `ByteBudget.responses`). `WatchHub`
/// charges it the events its streams hold queued, so unread watch streams
/// and unsent HTTP/2 answers have one bound together.
///
/// The rule is the budget's own: a stream that already has events queued is
/// given no more than fits (live events make its watchers unsynced, catch-up
/// waits or reads only what fits), while a stream with nothing queued may
/// always take one small chunk, so no client is starved by others and the
/// bound is exceeded by at most one chunk per stream.
public protocol SharedByteBudget: AnyObject, Sendable {
    /// Bytes left below the bound (0 or less: full).
    var bytesFree: Int { get }
    func add(_ bytes: Int)
    func remove(_ bytes: Int)
}
