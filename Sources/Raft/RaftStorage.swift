/// The stable log as the core sees it: read-only, pulled on demand. The
/// application writes to it (entries, hard state, snapshots) while handling a
/// `Ready`, before calling `advance`.
///
/// Indexes: entries live in [firstIndex, lastIndex]; the entry at
/// firstIndex-1 is the snapshot point whose term is still answerable by `term(of:)`.
public protocol RaftStorage: AnyObject {
    /// The persisted hard state and the current configuration.
    func initialState() throws -> (HardState, ConfState)
    /// Entries in [lo, hi), at most `maxSizeBytes` of data but at least one entry.
    /// Throws `.compacted` if lo < firstIndex, `.unavailable` if hi > lastIndex+1.
    func entries(from lo: UInt64, to hi: UInt64, maxSizeBytes: Int) throws -> [Entry]
    /// Term of entry `index`, for index in [firstIndex-1, lastIndex].
    func term(of index: UInt64) throws -> UInt64
    func firstIndex() throws -> UInt64
    func lastIndex() throws -> UInt64
    /// The most recent snapshot (may throw `.snapshotTemporarilyUnavailable`).
    func snapshot() throws -> Snapshot
}

/// Sum of entry payload sizes, the unit of every byte limit in the core.
@inline(__always)
func entryPayloadSize(_ e: Entry) -> Int { e.data.count + 16 }

/// Longest prefix of `entries` whose size stays within `maxSizeBytes` (never empty
/// if `entries` is not).
func limitSize(_ entries: ArraySlice<Entry>, _ maxSizeBytes: Int) -> ArraySlice<Entry> {
    guard entries.count > 1, maxSizeBytes != Int.max else { return entries }
    var size = entryPayloadSize(entries[entries.startIndex])
    var end = entries.startIndex + 1
    while end < entries.endIndex {
        size += entryPayloadSize(entries[end])
        if size > maxSizeBytes { break }
        end += 1
    }
    return entries[entries.startIndex..<end]
}
