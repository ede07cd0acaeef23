/// The bounds that keep a slow or absent reader's cost fixed: how much one
/// watcher, one stream and all streams together may hold queued, and how
/// much catch-up reads from history at a time.
extension WatchHub {
    public struct Limits {
        /// Events a watcher may have queued before it is moved to unsynced.
        public var maxQueuedEvents: Int
        /// Bytes of keys+values a watcher may have queued.
        public var maxQueuedBytes: Int
        /// Bytes of keys+values one stream (all its watchers) may have queued;
        /// past it live events make watchers unsynced and catch-up waits.
        /// Above the largest request (1.5 MiB) twice, so one event always fits.
        public var maxStreamQueuedBytes: Int
        /// Outputs one stream may have queued (each a few dozen bytes; they
        /// reference the events, counted above): past it live events make
        /// watchers unsynced and catch-up waits. A live revision queues one
        /// output per watcher it reaches, so the default lets a stream of
        /// 1,000 watchers of one prefix fall 1,000 revisions behind (tens of
        /// MB of entries at most) before they go unsynced: at 100,000 a Go
        /// client reading 1,000 watchers fell 100 revisions behind within a
        /// send, and catching 1,000 watchers up from history one by one cost
        /// more than the live path (fanout-1000, 4 alternating pairs: all
        /// delivered 2.15–2.94 vs 2.71–3.47 s, server CPU 1.37–1.87 vs
        /// 1.67–2.54 s; 300,000 still fell off).
        public var maxStreamQueuedOutputs: Int
        /// Events read from history per catch-up step.
        public var catchUpChunkEvents: Int
        public var syncIntervalSeconds: Double
        /// Revisions handed over by `notify` and not yet fanned out before
        /// `notify` fans out itself.
        public var maxPendingRevisions: Int

        public init(maxQueuedEvents: Int = 1024, maxQueuedBytes: Int = 8 << 20, catchUpChunkEvents: Int = 1000,
                    syncIntervalSeconds: Double = 0.1, maxPendingRevisions: Int = 10_000,
                    maxStreamQueuedBytes: Int = 4 << 20, maxStreamQueuedOutputs: Int = 1_000_000) {
            self.maxQueuedEvents = maxQueuedEvents
            self.maxQueuedBytes = maxQueuedBytes
            self.maxStreamQueuedBytes = maxStreamQueuedBytes
            self.maxStreamQueuedOutputs = maxStreamQueuedOutputs
            self.catchUpChunkEvents = catchUpChunkEvents
            self.syncIntervalSeconds = syncIntervalSeconds
            self.maxPendingRevisions = maxPendingRevisions
        }
    }

    /// Memory one queued output takes (an entry referencing its events,
    /// which are counted apart): a live revision queues one per watcher it
    /// reaches, so 1,000 watchers of one prefix on each of many unread
    /// streams would hold tens of MB per stream that no byte count sees.
    /// Live outputs count in the shared budget too, in blocks (one atomic add
    /// per `outputsPerCharge` outputs, not one per output); an unread stream
    /// holding a block may take the next one only while the budget has room.
    static let outputBytes = 32
    static let outputsPerCharge = 1024

    /// Bytes charged for `outputs` live outputs: whole blocks, rounded up.
    static func outputCharge(_ outputs: Int) -> Int {
        (outputs + outputsPerCharge - 1) / outputsPerCharge * outputsPerCharge * outputBytes
    }
}
