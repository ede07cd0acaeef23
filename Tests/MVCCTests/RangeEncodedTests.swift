import Foundation
import Proto
import Testing
@testable import MVCC
@testable import Server

/// `MVCCStore.rangeEncoded` writes the bytes protobuf's encoder writes for
/// `range`'s answer, for every request it takes.
@Suite struct RangeEncodedTests {
    static let header: Etcdserverpb.ResponseHeader = {
        var h = Etcdserverpb.ResponseHeader()
        h.clusterID = 0x1234_5678_9abc
        h.memberID = 42
        h.raftTerm = 7
        return h
    }()

    func expected(_ t: TempStore, _ r: RangeRequest) -> Result<[UInt8], MVCCError> {
        Result(catching: {
            let response = try t.store.range(r)
            var h = Self.header
            h.revision = response.revision
            return KVMapping.rangeResponse(response, header: h).serializedBytes()
        }).mapError { $0 as! MVCCError }
    }

    func encoded(_ t: TempStore, _ r: RangeRequest, headroom: Int = 0) -> Result<[UInt8], MVCCError>? {
        do {
            guard let e = try t.store.rangeEncoded(r, headroom: headroom, header: { rev in
                var h = Self.header
                h.revision = rev
                return h.serializedBytes()
            }) else { return nil }
            #expect(e.bytes.prefix(headroom).allSatisfy { $0 == 0 })
            return .success(Array(e.bytes.dropFirst(headroom)))
        } catch {
            return .failure(error as! MVCCError)
        }
    }

    /// A store with history: puts, overwrites, deletes, a lease, long (hashed) keys, a compaction.
    func store() throws -> TempStore {
        let t = try TempStore()
        t.leases = [99]
        for i in 0..<30 { try t.put(String(format: "k%02d", i), String(repeating: "v", count: i * 37)) }
        try t.put("k05", "again")
        try t.put("k06", "leased", lease: 99)
        try t.delete("k07")
        try t.delete("k20", "k23")
        try t.put("k21", "")  // an empty value: no field 5
        let long = String(repeating: "L", count: 600)
        for s in ["b", "a", "c"] { try t.put(long + s, "long-" + s) }
        try t.put("k08", "late")
        _ = try t.write(.compact(CompactionRequest(revision: 3, physical: true)))
        try t.put("z", "last")
        return t
    }

    @Test func sameBytesAsTheEncoderForEveryPlainRequest() throws {
        let t = try store()
        let cur = t.store.currentRevision
        let ranges: [([UInt8], [UInt8])] = [
            (b("k05"), []), (b("nope"), []), (b("k07"), []), (b("k"), b("l")), (b("k1"), b("k25")),
            ([0], [0]), (b("L"), b("M")), (b(String(repeating: "L", count: 600) + "a"), []), (b("k"), [0]),
        ]
        var compared = 0
        for (key, end) in ranges {
            for rev: Int64 in [0, cur, cur - 1, 10, 33, 3, 2, cur + 1] {
                for limit: Int64 in [0, 1, 3, 500, -1] {
                    for (keysOnly, countOnly) in [(false, false), (true, false), (false, true)] {
                        let r = RangeRequest(key: key, rangeEnd: end, limit: limit, revision: rev,
                                             keysOnly: keysOnly, countOnly: countOnly)
                        let got = try #require(encoded(t, r))
                        #expect(got == expected(t, r), "\(String(decoding: key.prefix(8), as: UTF8.self)) rev \(rev) limit \(limit)")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == 9 * 8 * 5 * 3)
        // Headroom is zeros in front of the same bytes.
        let r = RangeRequest(key: b("k"), rangeEnd: b("l"), limit: 4)
        #expect(try #require(encoded(t, r, headroom: 5)) == expected(t, r))
    }

    @Test func sortsAndFiltersAreLeftToRange() throws {
        let t = try store()
        for r in [RangeRequest(key: b("k"), rangeEnd: b("l"), sortOrder: .ascend),
                  RangeRequest(key: b("k"), rangeEnd: b("l"), sortOrder: .descend),
                  RangeRequest(key: b("k"), rangeEnd: b("l"), sortTarget: .mod),
                  RangeRequest(key: b("k"), rangeEnd: b("l"), minModRevision: 5),
                  RangeRequest(key: b("k"), rangeEnd: b("l"), maxCreateRevision: 5)] {
            #expect(encoded(t, r) == nil)
        }
    }
}
