import Testing
@testable import MVCC

/// Ranges at every past revision against a model of the history: keys with
/// a few changes (found by stepping back from the last) and keys with long
/// histories (found by a search), deleted and re-created keys.
@Suite struct PastRevisionRangeTests {
    @Test func everyRevisionMatchesTheModel() throws {
        let t = try TempStore()
        var state: [String: KeyValue] = [:]
        var states: [Int64: [String: KeyValue]] = [:]
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        for step in 0..<400 {
            // "hot" gets 1 change in 3 (a long history); k0..k9 the rest.
            let key = next(3) == 0 ? "hot" : "k\(next(10))"
            let rev = t.store.currentRevision + 1
            if next(5) == 0 {
                try t.delete(key)
                if state.removeValue(forKey: key) != nil { states[rev] = state }
            } else {
                let value = "v\(step)"
                try t.put(key, value)
                let old = state[key]
                state[key] = KeyValue(key: b(key), createRevision: old?.createRevision ?? rev, modRevision: rev,
                                      version: (old?.version ?? 0) + 1, value: b(value))
                states[rev] = state
            }
        }
        let cur = t.store.currentRevision
        var model: [String: KeyValue] = [:]
        for rev in Int64(2)...cur {
            if let s = states[rev] { model = s }
            let want = model.keys.sorted().map { model[$0]! }
            let got = try t.store.range(RangeRequest(key: [0], rangeEnd: [0], revision: rev))
            #expect(got.kvs == want, "revision \(rev)")
            #expect(got.count == Int64(want.count))
            for k in ["hot", "k3"] {
                let one = try t.store.range(RangeRequest(key: b(k), revision: rev))
                #expect(one.kvs == (model[k].map { [$0] } ?? []), "\(k) at \(rev)")
            }
        }
    }
}
