import Testing
@testable import MVCC

@Suite struct BasicTests {
    @Test func emptyStoreIsAtRevisionOne() throws {
        let t = try TempStore()
        #expect(t.store.currentRevision == 1)
        #expect(t.store.compactRevision == -1)
        #expect(t.store.consistentIndex == 0)
        let r = try t.get("foo")
        #expect(r.revision == 1 && r.kvs.isEmpty && r.count == 0)
    }

    @Test func putThenGet() throws {
        let t = try TempStore()
        let p = try t.put("foo", "bar")
        #expect(p.revision == 2)
        let r = try t.get("foo")
        #expect(r.kvs == [KeyValue(key: b("foo"), createRevision: 2, modRevision: 2, version: 1, value: b("bar"))])
        #expect(r.revision == 2 && r.count == 1)
    }
}
