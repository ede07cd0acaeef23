/// The node's view of the log: the stable part in `storage` followed by the
/// `unstable` part. Invariants: applied ≤ committed ≤ lastIndex, and
/// firstIndex-1 ≤ applied (what is compacted was applied).
struct RaftLog {
    let storage: RaftStorage
    var unstable: UnstableLog
    /// Highest index known to be committed (by a quorum).
    var committed: UInt64
    /// Highest index the application has applied (acknowledged in `advance`).
    var applied: UInt64
    /// Byte bound on committed entries handed out in one Ready.
    var maxNextEntsSizeBytes: Int

    init(storage: RaftStorage, maxNextEntsSizeBytes: Int) {
        self.storage = storage
        let first = storageCall { try storage.firstIndex() }
        let last = storageCall { try storage.lastIndex() }
        unstable = UnstableLog(offset: last + 1)
        committed = first - 1
        applied = first - 1
        self.maxNextEntsSizeBytes = maxNextEntsSizeBytes
    }

    var firstIndex: UInt64 {
        unstable.maybeFirstIndex ?? storageCall { try storage.firstIndex() }
    }

    var lastIndex: UInt64 {
        unstable.maybeLastIndex ?? storageCall { try storage.lastIndex() }
    }

    var lastTerm: UInt64 { term(lastIndex) ?? 0 }

    /// Last index whose entry is durable and belongs to the current log, or 0
    /// while a snapshot is pending.
    var lastStableIndex: UInt64 { unstable.snapshot == nil ? unstable.offset - 1 : 0 }

    /// Term of entry `i`, nil if compacted away or past the end.
    func term(_ i: UInt64) -> UInt64? {
        let dummy = firstIndex - 1
        guard i >= dummy, i <= lastIndex else { return nil }
        if let t = unstable.maybeTerm(i) { return t }
        do {
            return try storage.term(of: i)
        } catch RaftError.compacted {
            return nil
        } catch RaftError.unavailable {
            return nil
        } catch {
            preconditionFailure("raft storage failed: \(error)")
        }
    }

    func matchTerm(_ i: UInt64, _ t: UInt64) -> Bool { term(i) == t }

    /// §5.4.1: a candidate's log (lastTerm, lastIndex) is at least as up to date as ours.
    func isUpToDate(lastIndex li: UInt64, term t: UInt64) -> Bool {
        let ourTerm = lastTerm
        return t > ourTerm || (t == ourTerm && li >= lastIndex)
    }

    /// Follower side of AppendEntries: if (index, logTerm) matches, appends
    /// `ents` (truncating conflicts), advances commit and returns the last new index.
    mutating func maybeAppend(index: UInt64, logTerm: UInt64, committed leaderCommit: UInt64, entries ents: [Entry]) -> UInt64? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index + UInt64(ents.count)
        let ci = findConflict(ents)
        if ci != 0 {
            precondition(ci > committed, "entry \(ci) conflicts with committed entry (committed \(committed))")
            let start = Int(ci - (index + 1))
            append(ents[start...])
        }
        commitTo(min(leaderCommit, lastNew))
        return lastNew
    }

    /// Index of the first entry of `ents` that is missing or has another term
    /// in our log, 0 if all are present.
    func findConflict(_ ents: [Entry]) -> UInt64 {
        for e in ents where !matchTerm(e.index, e.term) { return e.index }
        return 0
    }

    /// Fast back-off: the largest index ≤ `index` whose term ≤ `term` (§5.3 optimisation).
    func findConflictByTerm(_ index: UInt64, _ term: UInt64) -> UInt64 {
        var i = min(index, lastIndex)
        while i > 0 {
            guard let t = self.term(i) else { return i }
            if t <= term { return i }
            i -= 1
        }
        return 0
    }

    @discardableResult
    mutating func append(_ ents: ArraySlice<Entry>) -> UInt64 {
        guard let first = ents.first else { return lastIndex }
        precondition(first.index > committed, "append at \(first.index) would overwrite committed \(committed)")
        unstable.truncateAndAppend(ents)
        return lastIndex
    }

    mutating func commitTo(_ c: UInt64) {
        guard c > committed else { return }
        precondition(c <= lastIndex, "commit \(c) past last index \(lastIndex)")
        committed = c
    }

    /// Leader: advance commit to `maxIndex` if its entry is from `term` (§5.4.2).
    mutating func maybeCommit(_ maxIndex: UInt64, term t: UInt64, anyTerm: Bool = false) -> Bool {
        guard maxIndex > committed else { return false }
        guard anyTerm || term(maxIndex) == t else { return false }
        commitTo(maxIndex)
        return true
    }

    mutating func appliedTo(_ i: UInt64) {
        guard i > applied else { return }
        precondition(i <= committed, "applied \(i) past committed \(committed)")
        applied = i
    }

    /// Committed entries ready to apply: durable ones only, so the application
    /// never applies an entry it could lose in a crash.
    func nextEntries() -> [Entry] {
        let lo = max(applied + 1, firstIndex)
        let hi = min(committed, lastStableIndex) + 1
        guard lo < hi else { return [] }
        return Array(slice(lo, hi, maxSizeBytes: maxNextEntsSizeBytes) ?? [])
    }

    func hasNextEntries() -> Bool {
        max(applied + 1, firstIndex) <= min(committed, lastStableIndex)
    }

    var hasPendingSnapshot: Bool { unstable.snapshot != nil }

    /// Entries from `i` up to the end, bounded in size; nil if `i` is compacted.
    func entries(from i: UInt64, maxSizeBytes: Int) -> ArraySlice<Entry>? {
        let last = lastIndex
        if i > last { return [] }
        return slice(i, last + 1, maxSizeBytes: maxSizeBytes)
    }

    /// [lo, hi) bounded in size; nil if lo is compacted.
    func slice(_ lo: UInt64, _ hi: UInt64, maxSizeBytes: Int) -> ArraySlice<Entry>? {
        guard lo < hi else { return [] }
        guard lo >= firstIndex else { return nil }
        precondition(hi <= lastIndex + 1, "slice [\(lo),\(hi)) past last index \(lastIndex)")
        var result: ArraySlice<Entry> = []
        if lo < unstable.offset {
            do {
                let stored = try storage.entries(from: lo, to: min(hi, unstable.offset), maxSizeBytes: maxSizeBytes)
                if UInt64(stored.count) < min(hi, unstable.offset) - lo { return stored[...] }
                result = stored[...]
            } catch RaftError.compacted {
                return nil
            } catch {
                preconditionFailure("raft storage failed: \(error)")
            }
        }
        if hi > unstable.offset {
            let u = unstable.slice(max(lo, unstable.offset), hi)
            if result.isEmpty { result = u } else { result = ArraySlice(Array(result) + u) }
        }
        return limitSize(result, maxSizeBytes)
    }

    /// The snapshot to send to a lagging follower.
    func snapshot() throws -> Snapshot {
        if let s = unstable.snapshot { return s }
        return try storage.snapshot()
    }

    mutating func restore(_ s: Snapshot) {
        committed = s.metadata.index
        unstable.restore(s)
    }

    mutating func stableTo(_ i: UInt64, _ t: UInt64) { unstable.stableTo(i, t) }
    mutating func stableSnapTo(_ i: UInt64) { unstable.stableSnapTo(i) }
}

/// Storage errors other than compacted/unavailable are fatal: the core cannot
/// continue with a log it cannot read (as etcd's raft panics).
@inline(__always)
func storageCall<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch { preconditionFailure("raft storage failed: \(error)") }
}
