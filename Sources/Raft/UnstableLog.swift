/// Entries (and possibly a snapshot) the node has accepted but the application
/// has not yet confirmed durable. `entries[i]` has index `offset + i`; a
/// pending snapshot sits right before `offset`.
struct UnstableLog {
    var snapshot: Snapshot?
    var entries: [Entry] = []
    var offset: UInt64

    init(offset: UInt64) { self.offset = offset }

    /// The first index if a snapshot is pending.
    var maybeFirstIndex: UInt64? { snapshot.map { $0.metadata.index + 1 } }

    var maybeLastIndex: UInt64? {
        if !entries.isEmpty { return offset + UInt64(entries.count) - 1 }
        return snapshot?.metadata.index
    }

    func maybeTerm(_ i: UInt64) -> UInt64? {
        if i < offset {
            if let s = snapshot, s.metadata.index == i { return s.metadata.term }
            return nil
        }
        guard let last = maybeLastIndex, i <= last else { return nil }
        return entries[Int(i - offset)].term
    }

    /// The application persisted entries up to (i, t): drop them, unless they
    /// were replaced meanwhile (the term at i differs).
    mutating func stableTo(_ i: UInt64, _ t: UInt64) {
        guard let gt = maybeTerm(i), gt == t, i >= offset else { return }
        entries.removeFirst(Int(i + 1 - offset))
        offset = i + 1
    }

    mutating func stableSnapTo(_ i: UInt64) {
        if let s = snapshot, s.metadata.index == i { snapshot = nil }
    }

    mutating func restore(_ s: Snapshot) {
        offset = s.metadata.index + 1
        entries = []
        snapshot = s
    }

    /// Appends, truncating a conflicting suffix (the caller has checked that
    /// `ents` follow on from the log).
    mutating func truncateAndAppend(_ ents: ArraySlice<Entry>) {
        guard let after = ents.first?.index else { return }
        if after == offset + UInt64(entries.count) {
            entries.append(contentsOf: ents)
        } else if after <= offset {
            // Replaces the whole unstable part (the stable part below is
            // overwritten by the application when it persists these).
            offset = after
            entries = Array(ents)
        } else {
            entries.removeSubrange(Int(after - offset)...)
            entries.append(contentsOf: ents)
        }
    }

    func slice(_ lo: UInt64, _ hi: UInt64) -> ArraySlice<Entry> {
        precondition(lo >= offset && hi <= offset + UInt64(entries.count) && lo <= hi,
                     "unstable slice [\(lo),\(hi)) out of [\(offset),\(offset + UInt64(entries.count)))")
        return entries[Int(lo - offset)..<Int(hi - offset)]
    }
}
