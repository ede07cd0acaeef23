import Testing
import MVCC
import Proto
@testable import Auth

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// etcd's permission semantics (range_perm_cache.go over pkg/adt's interval
/// tree): points, ranges, prefixes, from-key, unions of roles.
@Suite struct PermissionTests {
    @Test func pointsRangesAndFromKey() {
        let set = KeyIntervalSet([.covering(key: b("k"), rangeEnd: []), .covering(key: b("p"), rangeEnd: b("q")),
                                  .covering(key: b("x"), rangeEnd: [0])])
        #expect(set.contains(key: b("k")) && !set.contains(key: b("k0")) && !set.contains(key: b("j")))
        #expect(set.contains(key: b("p")) && set.contains(key: b("pzzz")) && !set.contains(key: b("q")))
        #expect(set.contains(key: b("x")) && set.contains(key: [0xff, 0xff]))
        #expect(set.covers(.covering(key: b("p"), rangeEnd: b("q"))))
        #expect(!set.covers(.covering(key: b("p"), rangeEnd: b("q0"))))
        #expect(set.covers(.covering(key: b("y"), rangeEnd: [0])), "from-key inside a from-key permission")
        #expect(!set.covers(.covering(key: b("w"), rangeEnd: [0])))
        #expect(!set.covers(.covering(key: b("k"), rangeEnd: b("k\0"))) == false, "[k, k\\0) is the point k")
    }

    @Test func adjacentIntervalsJoin() {
        let set = KeyIntervalSet([.covering(key: b("a"), rangeEnd: b("c")), .covering(key: b("c"), rangeEnd: b("e"))])
        #expect(set.covers(.covering(key: b("b"), rangeEnd: b("d"))))
        let gap = KeyIntervalSet([.covering(key: b("a"), rangeEnd: b("c")), .covering(key: b("d"), rangeEnd: b("e"))])
        #expect(!gap.covers(.covering(key: b("b"), rangeEnd: b("d"))))
    }

    /// The merged fast path must answer exactly as etcd's algorithm on the
    /// raw intervals; an irregular interval in the set forces the latter.
    @Test func fastPathMatchesEtcdsAlgorithm() {
        var rng = SystemRandomNumberGenerator()
        func key() -> [UInt8] { (0..<Int.random(in: 1...3, using: &rng)).map { _ in UInt8.random(in: 0x61...0x65, using: &rng) } }
        func interval() -> KeyInterval {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return .covering(key: key(), rangeEnd: [])
            case 1: return .covering(key: key(), rangeEnd: [0])
            default:
                let (x, y) = (key(), key())
                return .covering(key: min(x, y, by: <), rangeEnd: max(x, y, by: <) + [0x61])
            }
        }
        for _ in 0..<300 {
            let intervals = (0..<Int.random(in: 0...6, using: &rng)).map { _ in interval() }
            let fast = KeyIntervalSet(intervals)
            let exact = KeyIntervalSet(intervals + [KeyInterval(begin: [], end: b("a"))])  // irregular: exact path
            for _ in 0..<30 {
                let k = key()
                #expect(fast.contains(key: k) == exact.contains(key: k), "\(intervals) \(k)")
                let q = interval()
                #expect(fast.covers(q) == exact.covers(q), "\(intervals) \(q)")
            }
        }
    }

    @Test func invertedPermissionsBehaveAsEtcds() {
        // etcd 3.5.1 accepts `grant-permission r write z a`; its tree then
        // grants nothing for keys between a and z.
        let set = KeyIntervalSet([.covering(key: b("z"), rangeEnd: b("a"))])
        #expect(!set.contains(key: b("m")))
        #expect(!set.contains(key: b("z")))
    }
}

private func lessThan(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
private func min(_ a: [UInt8], _ b: [UInt8], by less: ([UInt8], [UInt8]) -> Bool) -> [UInt8] { less(a, b) ? a : b }
private func max(_ a: [UInt8], _ b: [UInt8], by less: ([UInt8], [UInt8]) -> Bool) -> [UInt8] { less(a, b) ? b : a }
private func < (a: [UInt8], b: [UInt8]) -> Bool { lessThan(a, b) }
