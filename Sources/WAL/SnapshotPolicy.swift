/// When to take a snapshot and how far to compact the log (`--snapshot-count`).
/// Pure: the server asks after each apply.
public struct SnapshotPolicy: Sendable, Hashable {
    /// Applied entries since the last snapshot that trigger a new one.
    public var snapshotCount: UInt64
    /// Entries kept in the in-memory Raft log below the snapshot so slow
    /// followers can catch up without a snapshot (etcd keeps 5000).
    public var catchUpEntries: UInt64

    public init(snapshotCount: UInt64 = 100_000, catchUpEntries: UInt64 = 5_000) {
        self.snapshotCount = snapshotCount
        self.catchUpEntries = catchUpEntries
    }

    public struct Decision: Sendable, Hashable {
        /// Take a snapshot at this applied index.
        public var snapshotIndex: UInt64
        /// Compact the Raft log up to (and including) this index; 0 for none.
        public var compactIndex: UInt64
    }

    /// Nil unless more than `snapshotCount` entries were applied since `lastSnapshotIndex`.
    public func decide(appliedIndex: UInt64, lastSnapshotIndex: UInt64) -> Decision? {
        guard appliedIndex > lastSnapshotIndex, appliedIndex - lastSnapshotIndex > snapshotCount else { return nil }
        let compact = appliedIndex > catchUpEntries ? appliedIndex - catchUpEntries : 0
        return Decision(snapshotIndex: appliedIndex, compactIndex: compact)
    }
}
