import Foundation
import Testing
@testable import MVCC

/// Bucket records (etcd's auth buckets) persist in the entry's commit,
/// survive reopen and defrag, and stay out of HashKV.
@Suite struct BucketTests {
    @Test func recordsPersistAndDelete() throws {
        let t = try TempStore()
        t.apply([.bucketRecords([
            BucketRecord(bucket: "authUsers", key: Array("bob".utf8), value: [1, 2]),
            BucketRecord(bucket: "authUsers", key: Array("al".utf8), value: [3]),
            BucketRecord(bucket: "auth", key: Array("authEnabled".utf8), value: [1]),
            BucketRecord(bucket: "authRoles", key: Array("r".utf8), value: [9]),
        ])])
        #expect(try t.store.bucketRecords("authUsers").map(\.key) == [Array("al".utf8), Array("bob".utf8)])
        #expect(try t.store.bucketRecords("auth").map(\.value) == [[1]])
        t.apply([.bucketRecords([BucketRecord(bucket: "authUsers", key: Array("al".utf8), value: nil)])])
        try t.reopen()
        #expect(try t.store.bucketRecords("authUsers").map(\.value) == [[1, 2]])
        #expect(try t.store.bucketRecords("authRoles").count == 1)
        #expect(t.store.consistentIndex == 2)
        #expect(t.store.currentRevision == 1, "bucket records do not move the revision")
    }

    @Test func longKeysAreStoredShortened() throws {
        let t = try TempStore()
        let long = [UInt8](repeating: 0x61, count: 2000)
        t.apply([.bucketRecords([BucketRecord(bucket: "authUsers", key: long, value: [7])])])
        let records = try t.store.bucketRecords("authUsers")
        #expect(records.count == 1 && records[0].value == [7])
        t.apply([.bucketRecords([BucketRecord(bucket: "authUsers", key: long, value: nil)])])
        #expect(try t.store.bucketRecords("authUsers").isEmpty)
    }

    @Test func hashKVIgnoresBucketsAndDefragKeepsThem() throws {
        let t = try TempStore()
        try t.put("k", "v")
        let before = try t.store.hashKV(revision: 0)
        t.apply([.bucketRecords([BucketRecord(bucket: "authRoles", key: Array("r".utf8), value: [5])])])
        #expect(try t.store.hashKV(revision: 0) == before)
        _ = try t.store.defragment()
        #expect(try t.store.bucketRecords("authRoles").map(\.value) == [[5]])
    }
}
