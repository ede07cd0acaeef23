import Foundation

/// Remembered `count`s of Range requests, so a count_only Range or a page of
/// a paginated list does not walk every key of its range in the index each
/// time (etcd's count is every live key in [key, range_end) at the read
/// revision, however small the page; under the Kubernetes-style load that
/// walk was a quarter of the server's CPU).
///
/// Two kinds of entry, each exact by construction:
/// - **tracked ranges**: a range's count at the newest revision folded in,
///   kept current by `fold`, which the store's writer calls for every commit
///   with its events (a put of version 1 made a key live, each delete event
///   ended one; `KVWriter.liveKeyDelta` follows the same rule);
/// - **facts**: a range's count at one past revision, which never changes:
///   history at or below a revision is immutable (compaction only makes
///   reads below its revision refused, and those are refused before a count
///   is looked up). A list page that stopped at `limit` tells the next page's
///   count: the page held the first `limit` live keys of its range.
///
/// Nothing is kept on disk: a restart starts with no entries, so no counter
/// can outlive the data it counts; `reset` runs when the store's content is
/// swapped (a snapshot from the leader). Defragmentation and compaction
/// change no live key at any readable revision and leave the entries alone.
///
/// Thread-safety: one leaf lock (taken alone, never while taking another).
final class RangeCounts: @unchecked Sendable {
    /// At most this many tracked ranges (each costs a bounds check per
    /// written key in `fold`); the least recently used goes first.
    static let maxTracked = 16
    /// At most this many facts (one per list in progress is enough).
    static let maxFacts = 256
    /// Ranges with fewer live keys than this are not remembered: walking
    /// them costs about as much as a lookup.
    static let minCountRemembered: Int64 = 64
    /// Ranges whose key and range end together are longer are not
    /// remembered: a client picks them, and this bounds what the entries
    /// hold ((maxTracked + maxFacts) × 4 KiB).
    static let maxBoundsBytes = 4096

    private struct Tracked {
        var count: Int64
        /// The revision `count` is exact at: `appliedRev`, or a later one
        /// whose commit `fold` has not seen yet.
        var rev: Int64
        var lastUse: UInt64
    }

    private struct FactKey: Hashable {
        let bounds: KeyBounds
        let rev: Int64
    }

    private let lock = NSLock()
    /// The revision of the last commit `fold` saw (the store's at start).
    private var appliedRev: Int64
    private var tracked: [KeyBounds: Tracked] = [:]
    private var facts: [FactKey: Int64] = [:]
    /// Insertion order of `facts`, oldest first, for eviction.
    private var factOrder: [FactKey] = []
    private var uses: UInt64 = 0
    /// Counts answered from memory (for tests: that they exercise it).
    private var hits = 0
    var hitCount: Int { lock.withLock { hits } }

    init(revision: Int64) {
        appliedRev = revision
    }

    /// The count of live keys in `bounds` at `rev`, if remembered.
    func count(_ bounds: KeyBounds, atRev rev: Int64) -> Int64? {
        if case .single = bounds { return nil }
        return lock.withLock {
            if var t = tracked[bounds], t.rev == rev {
                uses &+= 1
                hits &+= 1
                t.lastUse = uses
                tracked[bounds] = t
                return t.count
            }
            guard let fact = facts[FactKey(bounds: bounds, rev: rev)] else { return nil }
            hits &+= 1
            return fact
        }
    }

    /// Remembers a count a walk of the index found in a read txn at `rev`:
    /// tracked from now on if `rev` is not behind the commits folded in
    /// (the store's current revision), a fact otherwise.
    func remember(_ bounds: KeyBounds, atRev rev: Int64, count: Int64) {
        guard Self.worthRemembering(bounds, count) else { return }
        lock.withLock {
            if rev >= appliedRev {
                uses &+= 1
                if tracked[bounds] == nil && tracked.count >= Self.maxTracked,
                   let oldest = tracked.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                    tracked[oldest] = nil
                }
                tracked[bounds] = Tracked(count: count, rev: rev, lastUse: uses)
            } else {
                addFact(FactKey(bounds: bounds, rev: rev), count)
            }
        }
    }

    /// Remembers the count of the page after one that stopped at its
    /// limit: `bounds` from the key after the page's last one, at `rev`.
    func rememberNextPage(_ bounds: KeyBounds, atRev rev: Int64, count: Int64) {
        guard Self.worthRemembering(bounds, count) else { return }
        lock.withLock { addFact(FactKey(bounds: bounds, rev: rev), count) }
    }

    private static func worthRemembering(_ bounds: KeyBounds, _ count: Int64) -> Bool {
        guard count >= minCountRemembered else { return false }
        switch bounds {
        case .single: return false
        case .from(let key): return key.count <= maxBoundsBytes
        case .range(let key, let end): return key.count + end.count <= maxBoundsBytes
        }
    }

    private func addFact(_ key: FactKey, _ count: Int64) {
        if facts.updateValue(count, forKey: key) != nil { return }
        factOrder.append(key)
        if factOrder.count > Self.maxFacts {
            let drop = factOrder.count - Self.maxFacts / 2
            for k in factOrder[0..<drop] { facts[k] = nil }
            factOrder.removeFirst(drop)
        }
    }

    /// Folds in one commit that took the store from `prevRev` to `newRev`
    /// with `events` (in order). Called by the writer right after the LMDB
    /// commit, before the next one can start.
    func fold(_ events: [Event], from prevRev: Int64, to newRev: Int64) {
        lock.withLock {
            defer { appliedRev = max(appliedRev, newRev) }
            guard newRev != prevRev, !tracked.isEmpty else { return }
            guard prevRev == appliedRev else {
                // A change this type did not see: nothing tracked can be trusted.
                tracked.removeAll()
                return
            }
            // In place, by index: iterating the dictionary while assigning to
            // it would copy all of it on every commit.
            var stale: [KeyBounds] = []
            var i = tracked.startIndex
            while i != tracked.endIndex {
                defer { tracked.formIndex(after: &i) }
                let (bounds, t) = tracked[i]
                if t.rev >= newRev { continue }  // read after this commit
                guard t.rev == prevRev else { stale.append(bounds); continue }
                var delta: Int64 = 0
                for e in events {
                    switch e.type {
                    case .put where e.kv.version == 1:
                        if e.kv.key.withUnsafeBytes({ bounds.contains($0) }) { delta += 1 }
                    case .delete:
                        if e.kv.key.withUnsafeBytes({ bounds.contains($0) }) { delta -= 1 }
                    case .put:
                        break
                    }
                }
                tracked.values[i].count += delta
                tracked.values[i].rev = newRev
            }
            for bounds in stale { tracked[bounds] = nil }
        }
    }

    /// Forgets everything: the store now holds other content at `revision`.
    func reset(revision: Int64) {
        lock.withLock {
            appliedRev = revision
            tracked.removeAll()
            facts.removeAll()
            factOrder.removeAll()
        }
    }
}
