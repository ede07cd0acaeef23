import Testing
@testable import MVCC

/// Keys longer than LMDB's 511-byte limit (`IndexKey`): every read must see
/// them in key order, exactly as short keys, at every revision.
@Suite struct LongKeyTests {
    /// Keys of lengths around the inline limit that share long prefixes, so
    /// several hashed runs form and interleave with inline keys.
    private func keyPool() -> [[UInt8]] {
        let base = [UInt8](repeating: UInt8(ascii: "p"), count: IndexKey.maxInlineBytes - 2)
        var pool: [[UInt8]] = [[UInt8(ascii: "a")], [UInt8(ascii: "z")]]
        for tail in ["", "a", "ab", "abc", "b", "ba", "zz"] {
            pool.append(base + Array(tail.utf8))
            pool.append(base + Array(tail.utf8) + [UInt8](repeating: UInt8(ascii: "q"), count: 40))
            pool.append(base + Array(tail.utf8) + [UInt8](repeating: UInt8(ascii: "q"), count: 40) + [1])
            pool.append(base + Array(tail.utf8) + [UInt8](repeating: 0, count: 600))
        }
        pool.append([UInt8](repeating: UInt8(ascii: "x"), count: 3000))
        pool.append([UInt8](repeating: UInt8(ascii: "x"), count: 3001))
        return pool
    }

    private func sortedLive(_ model: [[UInt8]: [UInt8]], _ lo: [UInt8], _ hi: [UInt8]?) -> [[UInt8]] {
        model.keys.filter { Bytes.compare($0, lo) >= 0 && (hi == nil || Bytes.compare($0, hi!) < 0) }
            .sorted { Bytes.compare($0, $1) < 0 }
    }

    @Test func randomOperationsMatchASortedModel() throws {
        let t = try TempStore()
        let pool = keyPool()
        var rng = SeededRandom(seed: 0x5eed)
        var model: [[UInt8]: [UInt8]] = [:]
        var history: [(rev: Int64, model: [[UInt8]: [UInt8]])] = []
        for step in 0 ..< 400 {
            let key = pool[Int(rng.next() % UInt64(pool.count))]
            if rng.next() % 4 == 0 {
                _ = try t.store.apply(batch: [(t.nextIndex, .deleteRange(DeleteRangeRequest(key: key)))],
                                      leaseExists: { _ in false }).results[0].get()
                t.nextIndex += 1
                model[key] = nil
            } else {
                let value = Array("v\(step)".utf8)
                _ = try t.store.apply(batch: [(t.nextIndex, .put(PutRequest(key: key, value: value)))],
                                      leaseExists: { _ in false }).results[0].get()
                t.nextIndex += 1
                model[key] = value
            }
            history.append((t.store.currentRevision, model))
        }
        // Every range shape, at the newest and at older revisions.
        for (rev, m) in [history.last!, history[150], history[40]] {
            for _ in 0 ..< 60 {
                let a = pool[Int(rng.next() % UInt64(pool.count))]
                let z = pool[Int(rng.next() % UInt64(pool.count))]
                let (lo, hi) = Bytes.compare(a, z) <= 0 ? (a, z) : (z, a)
                let r = try t.store.range(RangeRequest(key: lo, rangeEnd: hi, revision: rev))
                #expect(r.kvs.map(\.key) == sortedLive(m, lo, hi))
                #expect(r.kvs.allSatisfy { m[$0.key] == $0.value })
                let from = try t.store.range(RangeRequest(key: lo, rangeEnd: [0], limit: 3, revision: rev))
                let all = sortedLive(m, lo, nil)
                #expect(from.kvs.map(\.key) == Array(all.prefix(3)) && from.count == all.count)
                let one = try t.store.range(RangeRequest(key: lo, revision: rev))
                #expect(one.kvs.map(\.value) == (m[lo].map { [$0] } ?? []))
            }
        }
        // Compaction keeps the newest state; a reopened store reads the same.
        _ = try t.write(.compact(CompactionRequest(revision: history[200].rev, physical: true)))
        try t.reopen()
        let everything = try t.store.range(RangeRequest(key: [0], rangeEnd: [0]))
        #expect(everything.kvs.map(\.key) == sortedLive(model, [0], nil))
    }

    @Test func deleteRangeOverHashedRunsRemovesExactlyTheRange() throws {
        let t = try TempStore()
        let pool = keyPool()
        for k in pool {
            _ = try t.store.apply(batch: [(t.nextIndex, .put(PutRequest(key: k, value: [1])))],
                                  leaseExists: { _ in false }).results[0].get()
            t.nextIndex += 1
        }
        let sorted = pool.sorted { Bytes.compare($0, $1) < 0 }
        let lo = sorted[5], hi = sorted[20]
        let res = try t.store.apply(batch: [(t.nextIndex, .deleteRange(DeleteRangeRequest(key: lo, rangeEnd: hi, prevKV: true)))],
                                    leaseExists: { _ in false }).results[0].get()
        guard case .deleteRange(let d) = res else { Issue.record("not a delete"); return }
        #expect(d.deleted == 15 && d.prevKVs.map(\.key) == Array(sorted[5 ..< 20]))
        let left = try t.store.range(RangeRequest(key: [0], rangeEnd: [0]))
        #expect(left.kvs.map(\.key) == Array(sorted[0 ..< 5] + sorted[20...]))
    }
}
