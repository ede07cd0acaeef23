/// A half-open key interval in etcd's "bytes affine" order (pkg/adt), the
/// order its permission checks use: bytes compare lexicographically except
/// that the empty byte string is +∞. So an empty `end` is "every key from
/// `begin` on", and an empty `begin` sorts after every key.
struct KeyInterval: Equatable, Sendable {
    var begin: [UInt8]
    var end: [UInt8]

    /// etcd's NewBytesAffinePoint: the one key `key` as [key, key‖0x00).
    static func point(_ key: [UInt8]) -> KeyInterval { KeyInterval(begin: key, end: key + [0]) }

    /// The interval a permission or a request covers: a single key when
    /// `rangeEnd` is empty; every key ≥ `key` when it is "\0"; else [key, rangeEnd).
    static func covering(key: [UInt8], rangeEnd: [UInt8]) -> KeyInterval {
        if rangeEnd.isEmpty { return point(key) }
        return KeyInterval(begin: key, end: rangeEnd == [0] ? [] : rangeEnd)
    }

    /// True when begin < end in affine order: a non-empty set of keys that
    /// the fast merged representation handles.
    var isRegular: Bool { !begin.isEmpty && Self.compare(begin, end) < 0 }

    /// Affine comparison: the empty byte string is greater than any other.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.isEmpty ? 0 : 1 }
        if b.isEmpty { return -1 }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let n = min(pa.count, pb.count)
                for i in 0..<n where pa[i] != pb[i] { return pa[i] < pb[i] ? -1 : 1 }
                return pa.count == pb.count ? 0 : (pa.count < pb.count ? -1 : 1)
            }
        }
    }

    /// etcd's Interval.Compare: -1 when self lies left of `other`, 1 when
    /// right of it, 0 when they overlap. Defined for any interval, inverted
    /// ones included, exactly as etcd evaluates it.
    func position(relativeTo other: KeyInterval) -> Int {
        if Self.compare(begin, other.begin) < 0 && Self.compare(end, other.begin) <= 0 { return -1 }
        if Self.compare(begin, other.end) >= 0 { return 1 }
        return 0
    }
}

/// The keys one user may read (or write): the union of its roles'
/// permission intervals, as etcd's per-user interval tree. Built once per
/// auth change; each check is a binary search over merged, disjoint blocks.
///
/// Permissions etcd accepts but that are not ordinary intervals (an empty
/// key, an end before the begin) make etcd's tree answer in ways a merged
/// set cannot express; a set holding any, or asked about one, falls back
/// to replaying etcd's algorithm over the raw intervals (rare, linear).
struct KeyIntervalSet: Equatable, Sendable {
    /// Disjoint, sorted, non-touching blocks of the regular intervals.
    private var blocks: [KeyInterval] = []
    /// Every interval in insertion order (for the exact fallback).
    private var raw: [KeyInterval] = []
    private var hasIrregular = false

    init(_ intervals: [KeyInterval] = []) {
        raw = intervals
        hasIrregular = intervals.contains { !$0.isRegular }
        let sorted = intervals.filter(\.isRegular).sorted { KeyInterval.compare($0.begin, $1.begin) < 0 }
        for iv in sorted {
            if var last = blocks.last, KeyInterval.compare(iv.begin, last.end) <= 0 {
                if KeyInterval.compare(iv.end, last.end) > 0 { last.end = iv.end }
                blocks[blocks.count - 1] = last
            } else {
                blocks.append(iv)
            }
        }
    }

    var isEmpty: Bool { raw.isEmpty }

    /// etcd's checkKeyPoint (IntervalTree.Intersects with the key's point).
    func contains(key: [UInt8]) -> Bool {
        let point = KeyInterval.point(key)
        if hasIrregular || !point.isRegular { return raw.contains { point.position(relativeTo: $0) == 0 } }
        guard let block = block(atOrBefore: key) else { return false }
        return KeyInterval.compare(key, block.end) < 0
    }

    /// etcd's checkKeyInterval (IntervalTree.Contains): the intervals that
    /// overlap `query`, taken by begin, leave no gap and span it.
    func covers(_ query: KeyInterval) -> Bool {
        if hasIrregular || !query.isRegular { return coversExactly(query) }
        guard let block = block(atOrBefore: query.begin) else { return false }
        return KeyInterval.compare(query.end, block.end) <= 0
    }

    /// The last block whose begin ≤ `key`.
    private func block(atOrBefore key: [UInt8]) -> KeyInterval? {
        var lo = 0, hi = blocks.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if KeyInterval.compare(blocks[mid].begin, key) <= 0 { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : blocks[lo - 1]
    }

    /// etcd's Contains, step for step, over the raw intervals (its tree
    /// visits overlapping nodes in begin order, equal begins in insertion order).
    private func coversExactly(_ query: KeyInterval) -> Bool {
        let overlapping = raw.enumerated()
            .filter { query.position(relativeTo: $0.element) == 0 }
            .sorted { a, b in
                let c = KeyInterval.compare(a.element.begin, b.element.begin)
                return c != 0 ? c < 0 : a.offset < b.offset
            }
            .map(\.element)
        guard let first = overlapping.first else { return false }
        var maxEnd = first.end
        for iv in overlapping.dropFirst() {
            if KeyInterval.compare(maxEnd, iv.begin) < 0 { return false }
            if KeyInterval.compare(iv.end, maxEnd) > 0 { maxEnd = iv.end }
        }
        let minBegin = first.begin
        return KeyInterval.compare(maxEnd, query.end) >= 0 && KeyInterval.compare(minBegin, query.begin) <= 0
    }
}
