/// In-memory `RaftStorage`, the reference implementation (tests, simulation,
/// and the server's view of the WAL). Confined to one thread by the caller.
///
/// Invariant: `ents[0]` is a dummy entry at the snapshot point (its index and
/// term), so `ents[0].index + 1` is the first index and terms of the
/// snapshot point are answerable.
public final class MemoryStorage: RaftStorage {
    public private(set) var hardState = HardState()
    public private(set) var currentSnapshot = Snapshot()
    private var ents: [Entry] = [Entry(term: 0, index: 0)]

    public init() {}

    public func initialState() throws -> (HardState, ConfState) {
        (hardState, currentSnapshot.metadata.confState)
    }

    public func setHardState(_ hs: HardState) { hardState = hs }

    private var offset: UInt64 { ents[0].index }

    public func firstIndex() throws -> UInt64 { offset + 1 }

    public func lastIndex() throws -> UInt64 { offset + UInt64(ents.count) - 1 }

    public func term(of index: UInt64) throws -> UInt64 {
        guard index >= offset else { throw RaftError.compacted }
        guard index - offset < UInt64(ents.count) else { throw RaftError.unavailable }
        return ents[Int(index - offset)].term
    }

    public func entries(from lo: UInt64, to hi: UInt64, maxSizeBytes: Int) throws -> [Entry] {
        guard lo > offset else { throw RaftError.compacted }
        guard hi <= (try lastIndex()) + 1 else { throw RaftError.unavailable }
        guard lo < hi else { return [] }
        return Array(limitSize(ents[Int(lo - offset)..<Int(hi - offset)], maxSizeBytes))
    }

    public func snapshot() throws -> Snapshot { currentSnapshot }

    /// Step 1 of handling a Ready: snapshot, then entries, then hard state.
    public func persist(_ rd: Ready) throws {
        if let snap = rd.snapshot { try applySnapshot(snap) }
        try append(rd.entries)
        if let hs = rd.hardState { setHardState(hs) }
    }

    /// Appends entries, truncating any existing suffix they conflict with.
    /// Entries already compacted away are ignored.
    public func append(_ entries: [Entry]) throws {
        guard var first = entries.first?.index else { return }
        let firstKept = offset + 1
        var toAdd = entries[...]
        if first < firstKept {
            guard let last = entries.last?.index, last >= firstKept else { return }
            toAdd = entries[Int(firstKept - first)...]
            first = firstKept
        }
        let delta = Int(first - offset)
        precondition(delta <= ents.count, "MemoryStorage: gap in log (last \(offset + UInt64(ents.count) - 1), appending \(first))")
        ents.removeSubrange(delta...)
        ents.append(contentsOf: toAdd)
    }

    /// Replaces the whole log with the snapshot's point.
    public func applySnapshot(_ snap: Snapshot) throws {
        guard snap.metadata.index >= currentSnapshot.metadata.index else { throw RaftError.snapshotOutOfDate }
        currentSnapshot = snap
        ents = [Entry(term: snap.metadata.term, index: snap.metadata.index)]
    }

    /// Records a snapshot of the application state as of `index` (≤ last index,
    /// normally the applied index); does not compact the log.
    @discardableResult
    public func createSnapshot(index: UInt64, confState: ConfState?, data: [UInt8]) throws -> Snapshot {
        guard index > currentSnapshot.metadata.index else { throw RaftError.snapshotOutOfDate }
        let last = try lastIndex()
        precondition(index <= last, "snapshot \(index) past last index \(last)")
        var meta = SnapshotMetadata(index: index, term: try term(of: index))
        meta.confState = confState ?? currentSnapshot.metadata.confState
        currentSnapshot = Snapshot(metadata: meta, data: data)
        return currentSnapshot
    }

    /// Discards entries before `upTo` (keeping `upTo` itself as the new dummy).
    public func compact(upTo index: UInt64) throws {
        guard index > offset else { throw RaftError.compacted }
        let last = try lastIndex()
        precondition(index <= last, "compact \(index) past last index \(last)")
        ents.removeSubrange(0..<Int(index - offset))
        ents[0].data = []
    }
}
