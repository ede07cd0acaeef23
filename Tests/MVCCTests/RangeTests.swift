import Testing
@testable import MVCC
@testable import Server

@Suite struct RangeTests {
    /// a..e with distinct versions/create revisions: c has 3 versions, a 2.
    func fixture() throws -> TempStore {
        let t = try TempStore()
        try t.put("a", "5")   // 2
        try t.put("b", "4")   // 3
        try t.put("c", "3")   // 4
        try t.put("d", "2")   // 5
        try t.put("e", "1")   // 6
        try t.put("c", "3")   // 7
        try t.put("c", "9")   // 8
        try t.put("a", "1")   // 9
        return t
    }

    func range(_ t: TempStore, _ r: RangeRequest) throws -> RangeResponse { try t.store.range(r) }

    @Test func singlePrefixAndFromKey() throws {
        let t = try fixture()
        try t.put("ab", "x")  // 10
        #expect(t.keys(try t.get("a")) == ["a"])
        #expect(t.keys(try t.get("a", "b")) == ["a", "ab"])
        #expect(t.keys(try t.get("c", "\0")) == ["c", "d", "e"])
        #expect(t.keys(try range(t, RangeRequest(key: [0], rangeEnd: [0]))).count == 6)
        #expect(try t.get("zz", "\0").kvs.isEmpty)
        #expect(try t.get("d", "b").kvs.isEmpty)  // end before key
    }

    @Test func limitMoreAndCount() throws {
        let t = try fixture()
        var r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], limit: 2))
        #expect(t.keys(r) == ["a", "b"] && r.more && r.count == 5)
        r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], limit: 5))
        #expect(r.kvs.count == 5 && !r.more && r.count == 5)
        r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], countOnly: true))
        #expect(r.kvs.isEmpty && r.count == 5 && !r.more)
        r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], keysOnly: true))
        #expect(r.kvs.allSatisfy { $0.value.isEmpty } && r.kvs[2].version == 3)
    }

    @Test func sortTargetsAndOrders() throws {
        let t = try fixture()
        func sorted(_ o: RangeRequest.SortOrder, _ tg: RangeRequest.SortTarget, limit: Int64 = 0) throws -> [String] {
            t.keys(try range(t, RangeRequest(key: b("a"), rangeEnd: [0], limit: limit, sortOrder: o, sortTarget: tg)))
        }
        #expect(try sorted(.descend, .key) == ["e", "d", "c", "b", "a"])
        #expect(try sorted(.ascend, .key) == ["a", "b", "c", "d", "e"])
        #expect(try sorted(.none, .key) == ["a", "b", "c", "d", "e"])
        // Versions: a2 b1 c3 d1 e1; ties keep key order in both directions.
        #expect(try sorted(.ascend, .version) == ["b", "d", "e", "a", "c"])
        #expect(try sorted(.descend, .version) == ["c", "a", "b", "d", "e"])
        // A non-key target with order NONE sorts ascending.
        #expect(try sorted(.none, .version) == ["b", "d", "e", "a", "c"])
        #expect(try sorted(.ascend, .create) == ["a", "b", "c", "d", "e"])
        #expect(try sorted(.descend, .create) == ["e", "d", "c", "b", "a"])
        #expect(try sorted(.ascend, .mod) == ["b", "d", "e", "c", "a"])
        #expect(try sorted(.descend, .mod) == ["a", "c", "e", "d", "b"])
        // Values: a1 b4 c9 d2 e1
        #expect(try sorted(.ascend, .value) == ["a", "e", "d", "b", "c"])
        #expect(try sorted(.descend, .value) == ["c", "b", "d", "a", "e"])
        // Sorting happens before the limit.
        let r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], limit: 2, sortOrder: .descend, sortTarget: .mod))
        #expect(t.keys(r) == ["a", "c"] && r.more && r.count == 5)
    }

    @Test func revisionFilters() throws {
        let t = try fixture()
        func keys(_ r: RangeRequest) throws -> [String] { t.keys(try range(t, r)) }
        #expect(try keys(RangeRequest(key: b("a"), rangeEnd: [0], minModRevision: 6)) == ["a", "c", "e"])
        #expect(try keys(RangeRequest(key: b("a"), rangeEnd: [0], maxModRevision: 5)) == ["b", "d"])
        #expect(try keys(RangeRequest(key: b("a"), rangeEnd: [0], minCreateRevision: 4)) == ["c", "d", "e"])
        #expect(try keys(RangeRequest(key: b("a"), rangeEnd: [0], maxCreateRevision: 3)) == ["a", "b"])
        // Count ignores filters; limit and `more` apply after them.
        let r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], limit: 2, minModRevision: 6))
        #expect(t.keys(r) == ["a", "c"] && r.more && r.count == 5)
        let r2 = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], limit: 3, minModRevision: 6))
        #expect(r2.kvs.count == 3 && !r2.more)
    }

    @Test func historicalRange() throws {
        let t = try fixture()
        let r = try range(t, RangeRequest(key: b("a"), rangeEnd: [0], revision: 4))
        #expect(t.keys(r) == ["a", "b", "c"] && r.count == 3 && r.revision == 9)
        #expect(r.kvs[0].value == b("5"))
        let r2 = try range(t, RangeRequest(key: b("c"), revision: 7))
        #expect(r2.kvs[0].version == 2 && r2.kvs[0].modRevision == 7)
        #expect(kvError { _ = try range(t, RangeRequest(key: b("a"), revision: 10)) } == .futureRevision)
        #expect(ServerError(MVCCError.futureRevision).message == "etcdserver: mvcc: required revision is a future revision")
        #expect(ServerError(MVCCError.futureRevision).code == .outOfRange)
    }
}
