#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the watchers a key's event goes to (etcd's watcherGroup: a map for
/// single-key watchers, an interval tree for range watchers).
///
/// Single-key watchers are found by hashing the key. Range watchers are
/// grouped by their exact range (many watchers usually share one prefix), and
/// the distinct ranges are kept sorted by start with a max-end tree over
/// them, so a lookup visits only ranges that can hold the key:
/// O(log r + matches · log r) for r distinct ranges, whatever the number of
/// watchers. The tree is rebuilt lazily, on the first lookup after watchers
/// were added or removed (O(r log r)), so creating many watchers between two
/// commits costs one rebuild.
///
/// A range is [key, rangeEnd) as etcd means it: an empty `rangeEnd` is the
/// key alone, `[0]` is every key ≥ `key`. Not thread-safe: the owner's lock
/// guards it.
public struct WatchKeyIndex<Member: AnyObject> {
    /// A range watchers share; `end` nil: no upper bound.
    private struct Span: Hashable {
        var start: [UInt8]
        var end: [UInt8]?
    }

    private var single: [[UInt8]: [ObjectIdentifier: Member]] = [:]
    private var ranges: [Span: [ObjectIdentifier: Member]] = [:]
    /// Distinct spans sorted by start (valid when `!stale`).
    private var sorted: [Span] = []
    /// Max end over each node's spans of an implicit tree on `sorted` (node 1
    /// covers all; node i's children are 2i and 2i+1); nil: unbounded.
    private var maxEnd: [[UInt8]?] = []
    private var leaves = 0
    private var stale = false
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func insert(_ member: Member, key: [UInt8], rangeEnd: [UInt8]) {
        let id = ObjectIdentifier(member)
        if rangeEnd.isEmpty {
            if single[key, default: [:]].updateValue(member, forKey: id) == nil { count += 1 }
            return
        }
        let span = Self.span(key, rangeEnd)
        if ranges[span] == nil { stale = true }
        if ranges[span, default: [:]].updateValue(member, forKey: id) == nil { count += 1 }
    }

    public mutating func remove(_ member: Member, key: [UInt8], rangeEnd: [UInt8]) {
        let id = ObjectIdentifier(member)
        if rangeEnd.isEmpty {
            guard single[key]?.removeValue(forKey: id) != nil else { return }
            count -= 1
            if single[key]?.isEmpty == true { single.removeValue(forKey: key) }
            return
        }
        let span = Self.span(key, rangeEnd)
        guard ranges[span]?.removeValue(forKey: id) != nil else { return }
        count -= 1
        if ranges[span]?.isEmpty == true {
            ranges.removeValue(forKey: span)
            stale = true
        }
    }

    /// Every member whose range holds `key`, each once, in no set order.
    public mutating func forEach(containing key: [UInt8], _ body: (Member) -> Void) {
        if let members = single[key] { for m in members.values { body(m) } }
        guard !ranges.isEmpty else { return }
        if stale { rebuild() }
        visit(node: 1, lo: 0, hi: leaves, key: key, body)
    }

    /// Every member, each once.
    public func forEachMember(_ body: (Member) -> Void) {
        for group in single.values { for m in group.values { body(m) } }
        for group in ranges.values { for m in group.values { body(m) } }
    }

    private static func span(_ key: [UInt8], _ rangeEnd: [UInt8]) -> Span {
        Span(start: key, end: rangeEnd == [0] ? nil : rangeEnd)
    }

    private mutating func visit(node: Int, lo: Int, hi: Int, key: [UInt8], _ body: (Member) -> Void) {
        guard lo < sorted.count else { return }
        // Every span here starts at or after sorted[lo], and none ends after maxEnd[node].
        if Self.compare(sorted[lo].start, key) > 0 { return }
        if let end = maxEnd[node], Self.compare(end, key) <= 0 { return }
        if hi - lo == 1 {
            if let members = ranges[sorted[lo]] { for m in members.values { body(m) } }
            return
        }
        let mid = (lo + hi) / 2
        visit(node: 2 * node, lo: lo, hi: mid, key: key, body)
        visit(node: 2 * node + 1, lo: mid, hi: hi, key: key, body)
    }

    private mutating func rebuild() {
        sorted = ranges.keys.sorted { a, b in
            let c = Self.compare(a.start, b.start)
            return c != 0 ? c < 0 : Self.endBefore(a.end, b.end)
        }
        leaves = 1
        while leaves < sorted.count { leaves *= 2 }
        maxEnd = Array(repeating: [], count: 2 * leaves)
        fill(node: 1, lo: 0, hi: leaves)
        stale = false
    }

    /// Sets maxEnd for `node` and below; returns it.
    @discardableResult
    private mutating func fill(node: Int, lo: Int, hi: Int) -> [UInt8]? {
        if lo >= sorted.count {
            maxEnd[node] = []  // empty: below every key, so never visited
            return []
        }
        if hi - lo == 1 {
            maxEnd[node] = sorted[lo].end
            return sorted[lo].end
        }
        let mid = (lo + hi) / 2
        let left = fill(node: 2 * node, lo: lo, hi: mid)
        let right = fill(node: 2 * node + 1, lo: mid, hi: hi)
        let end = Self.endBefore(left, right) ? right : left
        maxEnd[node] = end
        return end
    }

    /// a < b for ends, where nil is unbounded.
    private static func endBefore(_ a: [UInt8]?, _ b: [UInt8]?) -> Bool {
        guard let a else { return false }
        guard let b else { return true }
        return compare(a, b) < 0
    }

    /// Byte-wise order of keys (etcd's bytes.Compare).
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        let c = n == 0 ? 0 : a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in memcmp(pa.baseAddress!, pb.baseAddress!, n) }
        }
        if c != 0 { return Int(c) }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}
