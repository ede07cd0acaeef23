import Foundation
import Testing
@testable import MVCC

@Suite struct PersistenceTests {
    @Test func reopenKeepsStateAndConsistentIndex() throws {
        let t = try TempStore()
        try t.put("a", "1")
        try t.put("b", "2")
        try t.delete("a")
        let before = try t.get("a", "\0", rev: 3)
        try t.reopen()
        #expect(t.store.currentRevision == 4)
        #expect(t.store.consistentIndex == 3)
        #expect(try t.get("a", "\0", rev: 3) == RangeResponse(revision: 4, kvs: before.kvs, count: 2))
        #expect(t.keys(try t.get("a", "\0")) == ["b"])
        try t.put("a", "3")
        #expect(try t.get("a").kvs[0].createRevision == 5)
    }

    /// The member's background sync can run after a stop closed the store:
    /// it must find the store closed, not sync a freed LMDB environment.
    @Test func syncAfterCloseDoesNothing() throws {
        let t = try TempStore()
        try t.put("a", "1")
        try t.store.sync()
        t.store.close()
        try t.store.sync()
        try t.store.sync()
    }

    /// A read that comes after a stop closed the store (a watch catch-up on
    /// its own thread, a read on an event loop) is refused as unavailable,
    /// not run on the freed LMDB environment (the watch-sync thread crashed
    /// on that in a SIGTERM with unread watch streams behind); so is a write.
    @Test func readsAndWritesAfterCloseAreRefused() throws {
        let t = try TempStore()
        try t.put("a", "1")
        t.store.close()
        #expect(throws: MVCCStore.closedError) { _ = try t.get("a") }
        #expect(throws: MVCCStore.closedError) { _ = try t.store.events(fromRevision: 1, key: b("a")) }
        #expect(throws: MVCCStore.closedError) { _ = try t.store.rangeEncoded(RangeRequest(key: b("a")), headroom: 0) { _ in [] } }
        let r = t.apply([.put(PutRequest(key: b("b"), value: b("1")))])
        #expect(r.results.count == 1)
        #expect(throws: MVCCStore.closedError) { _ = try r.results[0].get() }
    }

    @Test func replayedEntriesAreSkipped() throws {
        let t = try TempStore()
        let put = WriteRequest.put(PutRequest(key: b("k"), value: b("v")))
        _ = t.store.apply(batch: [(1, put), (2, put)], leaseExists: { _ in false })
        let replay = t.store.apply(batch: [(1, put), (2, put), (3, put)], leaseExists: { _ in false })
        #expect(try replay.results[0].get() == .noop(revision: 3))
        #expect(try replay.results[2].get().revision == 4)
        #expect(t.store.consistentIndex == 3)
        #expect(try t.get("k").kvs[0].version == 3)
    }

    @Test func batchFailuresAreIsolated() throws {
        let t = try TempStore()
        let r = t.apply([
            .put(PutRequest(key: b("a"), value: b("1"))),
            .put(PutRequest(key: b("b"), value: b("1"), lease: 77)),   // lease not found
            .deleteRange(DeleteRangeRequest(key: b("a"))),
            .txn(TxnRequest(success: [.put(PutRequest(key: b("c"), value: b("1"))),
                                      .put(PutRequest(key: b("d"), ignoreLease: true))])),  // key not found
            .compact(CompactionRequest(revision: 100)),
            .put(PutRequest(key: b("e"), value: b("1"))),
            .noop,
        ])
        #expect(r.results.map { (try? $0.get())?.revision } == [2, nil, 3, nil, nil, 4, 4])
        if case .failure(let e) = r.results[1] { #expect(e == .leaseNotFound) }
        if case .failure(let e) = r.results[3] { #expect(e == .keyNotFound) }
        if case .failure(let e) = r.results[4] { #expect(e == .futureRevision) }
        #expect(r.events.count == 3)
        #expect(t.keys(try t.get("a", "\0")) == ["e"])
        #expect(t.store.consistentIndex == 7)
    }

    @Test func snapshotAndRestore() throws {
        let t = try TempStore()
        for i in 0 ..< 50 { try t.put("k\(i)", String(repeating: "v", count: i)) }
        let file = t.dir + ".snap"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let info = try t.store.snapshot(to: file)
        #expect(info.consistentIndex == 50 && info.revision == 51)
        try t.put("after", "x")
        let target = t.dir + "-restored"
        defer { try? FileManager.default.removeItem(atPath: target) }
        try MVCCStore.restore(from: file, to: target)
        let restored = try MVCCStore(path: target, mapSizeBytes: 1 << 30)
        defer { restored.close() }
        #expect(restored.currentRevision == 51 && restored.consistentIndex == 50)
        #expect(try restored.range(RangeRequest(key: b("k"), rangeEnd: b("l"), countOnly: true)).count == 50)
        #expect(try restored.get(b("after")) == nil)
        #expect(t.store.dbSizeBytes > 0 && t.store.dbSizeInUseBytes > 0)
    }

    @Test func leasedKeysAndLongKeys() throws {
        let t = try TempStore()
        t.leases = [3]
        try t.put("a", "1", lease: 3)
        try t.put("b", "1")
        #expect(try t.store.leasedKeys().map { "\(s($0.key))=\($0.lease)" } == ["a=3"])
        let long = String(repeating: "x", count: 600)
        try t.put(long, "v", lease: 3)
        #expect(t.store.currentRevision == 4)
        #expect(try t.store.leasedKeys().map { "\(s($0.key).count)=\($0.lease)" } == ["1=3", "600=3"])
        try t.reopen()
        #expect(try t.keys(t.get(long)) == [long])
    }

    @Test func concurrentReadersDuringWrites() async throws {
        let t = try TempStore()
        try t.put("c", "0")
        let store = t.store
        await withTaskGroup(of: Bool.self) { g in
            for _ in 0 ..< 4 {
                g.addTask {
                    for _ in 0 ..< 200 {
                        guard let r = try? store.range(RangeRequest(key: b("c"))), r.kvs.count == 1,
                              r.kvs[0].modRevision == r.revision else { return false }
                    }
                    return true
                }
            }
            for i in 1 ... 200 { try? t.put("c", "\(i)") }
            for await ok in g { #expect(ok) }
        }
    }
}
