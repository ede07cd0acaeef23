import Testing
@testable import MVCC

/// The index against the obvious answer: every member whose range holds the key.
@Suite struct WatchKeyIndexTests {
    final class W {
        let key: [UInt8]
        let end: [UInt8]
        init(_ key: [UInt8], _ end: [UInt8]) { self.key = key; self.end = end }

        func holds(_ k: [UInt8]) -> Bool {
            if end.isEmpty { return k == key }
            if WatchKeyIndex<W>.compare(k, key) < 0 { return false }
            return end == [0] || WatchKeyIndex<W>.compare(k, end) < 0
        }
    }

    func matches(_ index: inout WatchKeyIndex<W>, _ key: [UInt8]) -> [ObjectIdentifier] {
        var out: [ObjectIdentifier] = []
        index.forEach(containing: key) { out.append(ObjectIdentifier($0)) }
        return out
    }

    @Test func singleKeysPrefixesAndOpenRanges() {
        var index = WatchKeyIndex<W>()
        let exact = W(b("a"), []), prefix = W(b("a/"), b("a0")), all = W([0], [0]), fromB = W(b("b"), [0])
        for w in [exact, prefix, all, fromB] { index.insert(w, key: w.key, rangeEnd: w.end) }
        #expect(Set(matches(&index, b("a"))) == Set([exact, all].map(ObjectIdentifier.init)))
        #expect(Set(matches(&index, b("a/x"))) == Set([prefix, all].map(ObjectIdentifier.init)))
        #expect(Set(matches(&index, b("zz"))) == Set([all, fromB].map(ObjectIdentifier.init)))
        #expect(Set(matches(&index, b("a0"))) == Set([all].map(ObjectIdentifier.init)))  // end is exclusive
        #expect(index.count == 4)
    }

    @Test func watchersSharingARangeAreEachFoundOnceAndRemovedOneByOne() {
        var index = WatchKeyIndex<W>()
        let ws = (0..<1000).map { _ in W(b("p/"), b("p0")) }
        for w in ws { index.insert(w, key: w.key, rangeEnd: w.end) }
        index.insert(ws[0], key: ws[0].key, rangeEnd: ws[0].end)  // twice: still one member
        #expect(index.count == 1000)
        #expect(matches(&index, b("p/k")).count == 1000)
        for w in ws.prefix(999) { index.remove(w, key: w.key, rangeEnd: w.end) }
        #expect(matches(&index, b("p/k")) == [ObjectIdentifier(ws[999])])
        index.remove(ws[999], key: ws[999].key, rangeEnd: ws[999].end)
        index.remove(ws[999], key: ws[999].key, rangeEnd: ws[999].end)  // unknown: ignored
        #expect(index.isEmpty)
        #expect(matches(&index, b("p/k")).isEmpty)
    }

    @Test func emptyAndReversedRangesHoldNothing() {
        var index = WatchKeyIndex<W>()
        let reversed = W(b("b"), b("a"))
        index.insert(reversed, key: reversed.key, rangeEnd: reversed.end)
        for k in ["a", "b", "c", ""] { #expect(matches(&index, b(k)).isEmpty) }
    }

    /// Random ranges (single keys, prefixes, open ends, reversed) over a small
    /// alphabet, added and removed between lookups, against a linear scan.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomAgainstLinearScan(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        func key() -> [UInt8] { (0..<Int.random(in: 0...3, using: &rng)).map { _ in UInt8.random(in: 97...100, using: &rng) } }
        var index = WatchKeyIndex<W>()
        var live: [W] = []
        for _ in 0..<400 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4:
                let k = key()
                let end: [UInt8]
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: end = []
                case 1: end = [0]
                default: end = key()
                }
                let w = W(k, end)
                live.append(w)
                index.insert(w, key: k, rangeEnd: end)
            case 4..<6 where !live.isEmpty:
                let w = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                index.remove(w, key: w.key, rangeEnd: w.end)
            default:
                let k = key()
                let want = Set(live.filter { $0.holds(k) }.map(ObjectIdentifier.init))
                let got = matches(&index, k)
                #expect(got.count == want.count)
                #expect(Set(got) == want)
            }
            #expect(index.count == live.count)
        }
    }
}
