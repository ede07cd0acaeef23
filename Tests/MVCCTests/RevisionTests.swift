import Testing
@testable import MVCC
@testable import Server

@Suite struct RevisionTests {
    @Test func generationsAndTombstones() throws {
        let t = try TempStore()
        try t.put("foo", "a")                    // rev 2
        try t.put("foo", "b")                    // rev 3
        let d = try t.delete("foo")              // rev 4
        #expect(d.deleted == 1 && d.revision == 4)
        try t.put("foo", "c")                    // rev 5: new generation
        let now = try t.get("foo").kvs
        #expect(now == [KeyValue(key: b("foo"), createRevision: 5, modRevision: 5, version: 1, value: b("c"))])
        #expect(try t.get("foo", rev: 2).kvs.first?.version == 1)
        #expect(try t.get("foo", rev: 3).kvs == [KeyValue(key: b("foo"), createRevision: 2, modRevision: 3, version: 2, value: b("b"))])
        #expect(try t.get("foo", rev: 4).kvs.isEmpty)
        #expect(try t.get("foo", rev: 1).kvs.isEmpty)
        // Historical reads answer with the current revision in the header, as etcd.
        #expect(try t.get("foo", rev: 3).revision == 5)
    }

    @Test func deleteOfMissingKeyKeepsRevision() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let d = try t.delete("zzz")
        #expect(d.deleted == 0 && d.revision == 2)
        #expect(t.store.currentRevision == 2)
    }

    @Test func deleteRangeWithPrevKV() throws {
        let t = try TempStore()
        for k in ["a", "b", "c", "d"] { try t.put(k, k + "v") }
        let d = try t.delete("b", "d", prevKV: true)
        #expect(d.deleted == 2 && d.revision == 6)
        #expect(d.prevKVs.map { s($0.key) } == ["b", "c"])
        #expect(d.prevKVs[0].value == b("bv"))
        #expect(t.keys(try t.get("a", "\0")) == ["a", "d"])
    }

    @Test func putPrevKVAndLease() throws {
        let t = try TempStore()
        t.leases = [7]
        #expect(try t.put("k", "1").prevKV == nil)
        let p = try t.put("k", "2", lease: 7, prevKV: true)
        #expect(p.prevKV?.value == b("1"))
        #expect(try t.get("k").kvs[0].lease == 7)
        #expect(kvError { try t.put("k", "3", lease: 8) } == .leaseNotFound)
        #expect(t.store.currentRevision == 3)
    }

    @Test func ignoreValueAndIgnoreLease() throws {
        let t = try TempStore()
        t.leases = [9]
        #expect(kvError { _ = try t.write(.put(PutRequest(key: b("x"), ignoreValue: true))) } == .keyNotFound)
        #expect(kvError { _ = try t.write(.put(PutRequest(key: b("x"), ignoreLease: true))) } == .keyNotFound)
        try t.put("x", "v", lease: 9)
        _ = try t.write(.put(PutRequest(key: b("x"), ignoreValue: true)))
        var kv = try t.get("x").kvs[0]
        #expect(kv.value == b("v") && kv.lease == 0 && kv.version == 2)
        _ = try t.write(.put(PutRequest(key: b("x"), value: b("w"), lease: 9)))
        _ = try t.write(.put(PutRequest(key: b("x"), value: b("z"), ignoreLease: true)))
        kv = try t.get("x").kvs[0]
        #expect(kv.value == b("z") && kv.lease == 9 && kv.version == 4)
    }

    @Test func writesReturnEvents() throws {
        let t = try TempStore()
        let r = t.apply([.put(PutRequest(key: b("a"), value: b("1"))),
                         .put(PutRequest(key: b("a"), value: b("2"))),
                         .deleteRange(DeleteRangeRequest(key: b("a")))])
        #expect(r.events == [
            Event(type: .put, kv: KeyValue(key: b("a"), createRevision: 2, modRevision: 2, version: 1, value: b("1"))),
            Event(type: .put, kv: KeyValue(key: b("a"), createRevision: 2, modRevision: 3, version: 2, value: b("2"))),
            Event(type: .delete, kv: KeyValue(key: b("a"), modRevision: 4)),
        ])
        let h = try t.store.events(fromRevision: 3, key: b("a"), prevKV: true)
        #expect(h.events.map(\.type) == [.put, .delete])
        #expect(h.events[0].prevKV?.value == b("1"))
        #expect(h.events[1].kv == KeyValue(key: b("a"), modRevision: 4))
        #expect(h.events[1].prevKV?.value == b("2"))
        #expect(h.lastRevision == 4)
    }

    @Test func historyByRangeAndLimit() throws {
        let t = try TempStore()
        _ = try t.txn(TxnRequest(success: [.put(PutRequest(key: b("a1"), value: b("x"))),
                                           .put(PutRequest(key: b("a2"), value: b("x")))]))   // rev 2, two events
        try t.put("b", "y")                                                                     // rev 3
        try t.put("a3", "z")                                                                    // rev 4
        let all = try t.store.events(fromRevision: 1, key: b("a"), rangeEnd: b("b"))
        #expect(all.events.map { s($0.kv.key) } == ["a1", "a2", "a3"])
        // The limit never splits a revision.
        let first = try t.store.events(fromRevision: 1, key: b("a"), rangeEnd: b("b"), limit: 1)
        #expect(first.events.count == 2 && first.lastRevision == 2)
        let rest = try t.store.events(fromRevision: first.lastRevision + 1, key: b("a"), rangeEnd: b("b"), limit: 1)
        #expect(rest.events.map { s($0.kv.key) } == ["a3"])
    }
}
