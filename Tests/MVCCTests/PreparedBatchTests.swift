import Foundation
import Testing
@testable import MVCC

/// `MVCCStore.prepare` runs a batch in an open write txn that nothing can
/// see until `commit`; `abort` leaves the store exactly as it was (the Raft
/// loop prepares a sole voter's entries during their WAL fsync).
@Suite struct PreparedBatchTests {
    private func put(_ index: UInt64, _ key: String, _ value: String) -> (index: UInt64, request: WriteRequest) {
        (index, .put(PutRequest(key: Array(key.utf8), value: Array(value.utf8))))
    }

    @Test func preparedBatchIsInvisibleUntilCommitted() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let before = t.store.currentRevision
        let prepared = t.store.prepare(batch: [put(2, "a", "2"), put(3, "b", "1")], leaseExists: { _ in false })
        // Readers (on another thread, as the gRPC handlers are) see the old state.
        let seen = onAnotherThread {
            (try? t.store.get(Array("a".utf8)), try? t.store.get(Array("b".utf8)), t.store.currentRevision, t.store.consistentIndex)
        }
        #expect(seen.0?.value == Array("1".utf8))
        #expect(seen.1 == nil)
        #expect(seen.2 == before && seen.3 == 1)

        let result = t.store.commit(prepared)
        #expect(result.results.count == 2)
        #expect(result.events.map(\.kv.key) == [Array("a".utf8), Array("b".utf8)])
        #expect(try t.store.get(Array("a".utf8))?.value == Array("2".utf8))
        #expect(try t.store.get(Array("b".utf8))?.value == Array("1".utf8))
        #expect(t.store.currentRevision == before + 2 && t.store.consistentIndex == 3)
        // Finishing twice does nothing.
        #expect(t.store.commit(prepared).results.isEmpty)
    }

    @Test func abortedBatchLeavesTheStoreAsItWas() throws {
        let t = try TempStore()
        try t.put("a", "1")
        let before = t.store.currentRevision
        let prepared = t.store.prepare(batch: [put(2, "a", "2"), put(3, "c", "1")], leaseExists: { _ in false })
        t.store.abort(prepared)
        #expect(try t.store.get(Array("a".utf8))?.value == Array("1".utf8))
        #expect(try t.store.get(Array("c".utf8)) == nil)
        #expect(t.store.currentRevision == before && t.store.consistentIndex == 1)
        // The writer lock was released: the same indexes apply normally now.
        let applied = t.store.apply(batch: [put(2, "a", "3")], leaseExists: { _ in false })
        #expect((try? applied.results[0].get()) != nil)
        #expect(try t.store.get(Array("a".utf8))?.value == Array("3".utf8))
        #expect(t.store.currentRevision == before + 1 && t.store.consistentIndex == 2)
        try t.reopen()
        #expect(try t.store.get(Array("c".utf8)) == nil)
        #expect(t.store.consistentIndex == 2)
    }
}

private final class ThreadResult<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}

private func onAnotherThread<T>(_ body: @escaping () -> T) -> T {
    let box = ThreadResult<T>()
    Thread { box.value = body(); box.done.signal() }.start()
    box.done.wait()
    return box.value!
}
