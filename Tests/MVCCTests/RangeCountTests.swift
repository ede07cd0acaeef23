import Foundation
import Support
import Testing
@testable import MVCC

/// Range counts answered from `RangeCounts` (tracked ranges, next-page
/// facts) must equal a walk of the index at the read revision, through
/// writes of every kind, compaction, defragmentation, a restart, a WAL
/// replay and a snapshot install.
@Suite struct RangeCountTests {
    /// The answer without remembered counts: a walk of every key.
    static func walked(_ t: TempStore, _ r: RangeRequest) -> Result<RangeResponse, MVCCError> {
        Result {
            try t.store.withReadTxn { rd in
                let (cur, compact) = try t.store.revisions(rd)
                return try rd.applyRange(r, curRev: cur, compactRev: compact)
            }
        }.mapError { ($0 as? MVCCError) ?? MVCCError(.internal, "\($0)") }
    }

    static func encoded(_ t: TempStore, _ r: RangeRequest, counts: Bool) -> Result<[UInt8], MVCCError> {
        Result {
            try t.store.withReadTxn { rd in
                let (cur, compact) = try t.store.revisions(rd)
                return try rd.rangeEncoded(r, curRev: cur, compactRev: compact, headroom: 0, header: [1, 2],
                                           counts: counts ? t.store.rangeCounts : nil).bytes
            }
        }.mapError { ($0 as? MVCCError) ?? MVCCError(.internal, "\($0)") }
    }

    /// Asks `r` through both read paths with remembered counts and checks
    /// both against the walk; returns the answer.
    @discardableResult
    static func check(_ t: TempStore, _ r: RangeRequest, sourceLocation: SourceLocation = #_sourceLocation)
        -> RangeResponse? {
        let want = walked(t, r)
        let got = Result { try t.store.range(r) }.mapError { ($0 as? MVCCError) ?? MVCCError(.internal, "\($0)") }
        #expect(got == want, "\(r)", sourceLocation: sourceLocation)
        #expect(encoded(t, r, counts: true) == encoded(t, r, counts: false), "\(r)", sourceLocation: sourceLocation)
        return try? want.get()
    }

    /// Lists `prefix` in pages of `limit` pinned to the first page's revision
    /// (as Kubernetes' API server does), checking every page.
    static func list(_ t: TempStore, _ key: [UInt8], _ end: [UInt8], limit: Int64, keysOnly: Bool = false,
                     between: () throws -> Void = {}) rethrows {
        var r = RangeRequest(key: key, rangeEnd: end, limit: limit, keysOnly: keysOnly)
        while let page = Self.check(t, r), page.more, let last = page.kvs.last {
            r.revision = page.revision
            r.key = last.key + [0]
            try between()
        }
    }

    @Test func pagesAndCountsFollowEveryKindOfWrite() throws {
        let t = try TempStore()
        t.leases = [7]
        for i in 0..<150 { try t.put("p/\(i)", "v") }
        let long = "p/" + String(repeating: "l", count: 600)  // hashed index keys
        for i in 0..<70 { try t.put(long + "\(i)", "v", lease: i % 2 == 0 ? 7 : 0) }
        let prefix = RangeRequest(key: b("p/"), rangeEnd: b("p0"), countOnly: true)
        Self.check(t, prefix)
        let before = t.store.rangeCounts.hitCount
        Self.check(t, prefix)
        #expect(t.store.rangeCounts.hitCount > before)  // the second count came from memory
        var n = 0
        try Self.list(t, b("p/"), b("p0"), limit: 25) {
            n += 1
            // Writes between the pages: the pinned pages must not see them.
            switch n % 6 {
            case 0: try t.put("p/new\(n)", "v")
            case 1: try t.delete("p/\(n)")
            case 2: try t.delete("p/1", "p/2")
            case 3: _ = try t.txn(TxnRequest(success: [.put(PutRequest(key: b("p/t\(n)"), value: b("1"))),
                                                       .deleteRange(DeleteRangeRequest(key: b("p/\(n + 50)")))]))
            case 4: _ = try t.write(.leaseRevoke(id: 7, keys: (0..<70).map { b(long + "\($0)") }))
            default: try t.put("p/\(n + 1)", "again")
            }
            Self.check(t, prefix)
        }
        #expect(n > 5)
        // From-key, keys-only and plain pages, a count past the end, a single key.
        try Self.list(t, b("p/"), [0], limit: 10, keysOnly: true) { try t.put("p/z", "v") }
        try Self.list(t, b("p/"), b("p0"), limit: 1000)
        Self.check(t, RangeRequest(key: b("p/"), rangeEnd: b("p0"), limit: 10, revision: t.store.currentRevision - 3))
        Self.check(t, RangeRequest(key: b("p/1"), countOnly: true))
        try t.delete("p/", "p0")
        Self.check(t, prefix)
        #expect(t.store.rangeCounts.hitCount > before + 5)
    }

    @Test func seededLoadMatchesTheWalk() throws {
        for seed in UInt64(1)...3 {
            var rng = SplitMix64(seed: seed)
            let t = try TempStore()
            t.leases = [9]
            let prefixes = ["a/", "b/", "c/"]
            func key() -> String { "\(prefixes[Int.random(in: 0..<3, using: &rng)])\(Int.random(in: 0..<200, using: &rng))" }
            var lists: [RangeRequest] = []
            var hits = 0  // counts answered from memory, over every reopen
            for step in 0..<1500 {
                switch Int.random(in: 0..<100, using: &rng) {
                case 0..<45: try t.put(key(), "v\(step)", lease: step % 7 == 0 ? 9 : 0)
                case 45..<60: try t.delete(key())
                case 60..<62: let k = key(); try t.delete(k, k + "5")
                case 62..<64:
                    _ = try t.txn(TxnRequest(success: [.put(PutRequest(key: b(key()), value: b("t"))),
                                                       .put(PutRequest(key: b(key() + "x"), value: b("t")))]))
                case 64:
                    _ = try t.write(.leaseRevoke(id: 9, keys: (0..<200).flatMap { i in prefixes.map { b("\($0)\(i)") } }))
                case 65: // compact to a revision a little behind (pinned pages may become compacted)
                    let rev = t.store.currentRevision - Int64.random(in: 0..<30, using: &rng)
                    if rev > max(t.store.compactRevision, 1) {
                        _ = try t.write(.compact(CompactionRequest(revision: rev)))
                    }
                case 66 where step % 5 == 0: _ = try t.store.defragment()
                case 67 where step % 3 == 0:
                    hits += t.store.rangeCounts.hitCount
                    try t.reopen()
                case 68..<78:
                    let p = prefixes[Int.random(in: 0..<3, using: &rng)]
                    let end = Bool.random(using: &rng) ? b(String(p.dropLast()) + "0") : [0]
                    Self.check(t, RangeRequest(key: b(p), rangeEnd: end, countOnly: true))
                case 78..<90:
                    let p = prefixes[Int.random(in: 0..<3, using: &rng)]
                    let end = Bool.random(using: &rng) ? b(String(p.dropLast()) + "0") : [0]
                    lists.append(RangeRequest(key: b(p), rangeEnd: end, limit: Int64.random(in: 5..<40, using: &rng)))
                default:
                    guard !lists.isEmpty else { continue }
                    let i = Int.random(in: 0..<lists.count, using: &rng)
                    let r = lists[i]
                    if let page = Self.check(t, r), page.more, let last = page.kvs.last {
                        lists[i].revision = page.revision
                        lists[i].key = last.key + [0]
                    } else {
                        lists.remove(at: i)
                    }
                }
            }
            #expect(hits + t.store.rangeCounts.hitCount > 50, "seed \(seed)")
        }
    }

    /// WAL replay after a restart skips entries the store has: they change
    /// nothing, and counts stay those of the walk.
    @Test func restartAndReplayStartFromTheWalk() throws {
        let t = try TempStore()
        for i in 0..<100 { try t.put("k/\(i)", "v") }
        let all = RangeRequest(key: b("k/"), rangeEnd: b("k0"), countOnly: true)
        Self.check(t, all)
        Self.check(t, all)
        try t.reopen()
        #expect(t.store.rangeCounts.hitCount == 0)
        t.nextIndex -= 10  // the last ten entries again, as a replay from the WAL
        t.apply((0..<10).map { .put(PutRequest(key: b("k/new\($0)"), value: b("v"))) })
        t.nextIndex += 10
        #expect(Self.check(t, all)?.count == 100)
        try t.put("k/new", "v")
        #expect(Self.check(t, all)?.count == 101)
        #expect(t.store.rangeCounts.hitCount > 0)
    }

    /// A snapshot from the leader replaces the store: what was remembered
    /// of the old content, even at the same revisions, is forgotten.
    @Test func snapshotInstallForgetsTheOldContent() throws {
        let follower = try TempStore(), leader = try TempStore()
        for i in 0..<120 { try follower.put("k/\(i)", "v") }
        for i in 0..<120 { try leader.put("k/\(i % 80)", "w") }  // same revision, 80 keys
        let rev = follower.store.currentRevision
        #expect(leader.store.currentRevision == rev)
        let all = RangeRequest(key: b("k/"), rangeEnd: b("k0"), countOnly: true)
        #expect(Self.check(follower, all)?.count == 120)
        var page = RangeRequest(key: b("k/"), rangeEnd: b("k0"), limit: 10)
        let first = Self.check(follower, page)
        page.revision = rev
        page.key = (first?.kvs.last?.key ?? []) + [0]
        let copy = leader.dir + ".copy"
        defer { unlink(copy) }
        try leader.store.snapshot(to: copy)
        try follower.store.replace(withDatabaseFile: copy)
        #expect(Self.check(follower, all)?.count == 80)
        let want = try Self.walked(leader, page).get().count
        #expect(Self.check(follower, page)?.count == want)
    }

    /// The fold's rules, including a read that saw a commit before the
    /// writer folded it in.
    @Test func foldCountsEachCommitOnce() {
        let range = KeyBounds.range(b("a"), b("b"))
        let rc = RangeCounts(revision: 10)
        rc.remember(range, atRev: 10, count: 100)
        #expect(rc.count(range, atRev: 10) == 100)
        let created = Event(type: .put, kv: KeyValue(key: b("a1"), modRevision: 11, version: 1))
        let updated = Event(type: .put, kv: KeyValue(key: b("a2"), modRevision: 11, version: 3))
        let outside = Event(type: .put, kv: KeyValue(key: b("c"), modRevision: 11, version: 1))
        rc.fold([created, updated, outside], from: 10, to: 11)
        #expect(rc.count(range, atRev: 11) == 101)
        #expect(rc.count(range, atRev: 10) == nil)
        // A reader saw revision 12 before its fold: counted once.
        rc.remember(range, atRev: 12, count: 100)
        rc.fold([Event(type: .delete, kv: KeyValue(key: b("a1"), modRevision: 12))], from: 11, to: 12)
        #expect(rc.count(range, atRev: 12) == 100)
        // A reader behind the folded revision leaves a fact, not a tracked range.
        rc.remember(range, atRev: 11, count: 101)
        #expect(rc.count(range, atRev: 11) == 101)
        #expect(rc.count(range, atRev: 12) == 100)
        // A commit the counts did not see: nothing tracked survives.
        rc.fold([], from: 20, to: 21)
        #expect(rc.count(range, atRev: 21) == nil)
        // Small ranges and single keys are not remembered.
        rc.remember(.range(b("x"), b("y")), atRev: 21, count: 3)
        rc.remember(.single(b("x")), atRev: 21, count: 100)
        #expect(rc.count(.range(b("x"), b("y")), atRev: 21) == nil)
        #expect(rc.count(.single(b("x")), atRev: 21) == nil)
    }
}
