import Foundation
import Testing
import TestSupport
@testable import MVCC

@Suite struct DefragTests {
    @Test func defragShrinksTheFileAndKeepsEverything() throws {
        let t = try TempStore()
        let big = String(repeating: "x", count: 4000)
        for i in 0..<500 { try t.put("k\(i)", big + "\(i)") }
        for i in 0..<500 where i % 10 != 0 { try t.delete("k\(i)") }
        let rev = t.store.currentRevision
        _ = try t.write(.compact(CompactionRequest(revision: rev)))
        t.store.waitForCompaction(rev)
        let kvBefore = try t.store.hashKV(revision: 0)
        let index = t.store.consistentIndex

        let (before, after) = try t.store.defragment()
        #expect(before == t.store.dbSizeBytes || after == t.store.dbSizeBytes)
        #expect(after < before / 4, "before \(before) after \(after)")
        #expect(t.store.dbSizeBytes == after)
        #expect(try t.store.hashKV(revision: 0) == kvBefore)
        #expect(t.store.consistentIndex == index)
        #expect(try t.get("k10").kvs.first?.value == b(big + "10"))
        #expect(try t.get("k11").kvs.isEmpty)

        // Writes and a reopen work on the new file.
        try t.put("after", "defrag")
        try t.reopen()
        #expect(try t.get("after").kvs.first?.value == b("defrag"))
        #expect(try t.get("k", "l").kvs.count == 50)
    }

    @Test func readersAndWritersDuringDefragSeeAConsistentStore() async throws {
        let t = try TempStore()
        for i in 0..<300 { try t.put("k\(i)", String(repeating: "y", count: 2000)) }
        let store = t.store
        let stop = ThreadFlag()
        let reader = Thread {
            while !stop.isSet {
                let r = try? store.range(RangeRequest(key: b("k"), rangeEnd: b("l"), countOnly: true))
                if r?.count != 300 { stop.fail() }
            }
            stop.done()
        }
        reader.start()
        for _ in 0..<5 {
            try store.defragment()
            try t.put("k0", "changed")  // a write between defrags
        }
        stop.set()
        stop.waitDone()
        #expect(!stop.failed)
    }
}

