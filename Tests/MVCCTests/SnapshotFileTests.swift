import Foundation
import Testing
@testable import MVCC
@testable import Server

/// Snapshot files as `snapshot status` and `snapshot restore` read them.
@Suite struct SnapshotFileTests {
    @Test func statusOfACopyWithAndWithoutAppendedDigest() throws {
        let t = try TempStore()
        for i in 0..<20 { try t.put("k\(i)", "v\(i)") }
        let file = t.dir + ".snap"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let info = try t.store.snapshot(to: file)
        let status = try MVCCStore.snapshotFileStatus(file)
        #expect(status.revision == info.revision)
        #expect(status.revision == 21)
        #expect(status.totalSize == info.sizeBytes)
        // 20 index entries + 20 records + the meta values.
        #expect(status.totalKey >= 40)

        // 32 bytes appended (the stream's SHA-256): same answer.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 7, count: 32))
        handle.closeFile()
        #expect(try MVCCStore.snapshotFileStatus(file) == status)
    }

    @Test func notAStoreIsRefusedByName() throws {
        let file = NSTemporaryDirectory() + "not-a-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        FileManager.default.createFile(atPath: file, contents: Data(repeating: 0x42, count: 8192))
        let error = kvError { _ = try MVCCStore.snapshotFileStatus(file) }
        #expect(error?.message.contains("not a swift-etcd snapshot") == true)
        #expect(kvError { _ = try MVCCStore.snapshotFileStatus(file + ".missing") } != nil)
    }

    @Test func prepareRestoredResetsIndexAndCanBumpRevision() throws {
        let t = try TempStore()
        for i in 0..<5 { try t.put("k\(i)", "v\(i)") }
        let file = t.dir + ".snap"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try t.store.snapshot(to: file)
        #expect(t.store.consistentIndex == 5)

        let dir = t.dir + "-restored"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try MVCCStore.restore(from: file, to: dir)
        try MVCCStore.prepareRestored(dir: dir, consistentIndex: 1, bumpRevision: 100, markCompacted: true)
        let restored = try MVCCStore(path: dir)
        defer { restored.close() }
        #expect(restored.consistentIndex == 1)
        #expect(restored.currentRevision == 106)
        #expect(restored.compactRevision == 106)
        #expect(try restored.get(b("k3"))?.value == b("v3"))
        // The next entry of the new log (index 2) applies at the next revision.
        let r = restored.apply(batch: [(2, .put(PutRequest(key: b("new"), value: b("x"))))], leaseExists: { _ in false })
        guard case .success(.put(let put)) = r.results[0] else { Issue.record("put failed: \(r.results[0])"); return }
        #expect(put.revision == 107)
    }
}
