import Foundation
import Testing
import CLMDB
@testable import MVCC

/// `dbSizeBytes` is cached between commits that leave LMDB's last page
/// where it was; it must still equal the file's size after every commit.
@Suite struct DBSizeTests {
    private func fileSize(_ t: TempStore) -> Int64 {
        var st = stat()
        return stat(t.dir + "/data.mdb", &st) == 0 ? Int64(st.st_size) : -1
    }

    @Test func sizeFollowsTheFileAfterEveryCommit() throws {
        let t = try TempStore()
        let big = String(repeating: "g", count: 6000)
        for i in 0..<200 {
            // Growing writes (new keys, overflow pages), then small
            // overwrites that mostly reuse freed pages.
            try t.put(i % 4 == 0 ? "grow\(i)" : "same", i % 4 == 0 ? big : "v\(i)")
            #expect(t.store.dbSizeBytes == fileSize(t), "after put \(i)")
            #expect(t.store.dbSizeBytes == fileSize(t), "asked twice after put \(i)")
        }
        try t.delete("grow", "grox")
        #expect(t.store.dbSizeBytes == fileSize(t))
    }

    @Test func fileSizeWithoutTimestamps() throws {
        let t = try TempStore()
        try t.put("k", String(repeating: "v", count: 9000))
        #expect(clmdb_file_size(t.dir + "/data.mdb") == fileSize(t))
        #expect(clmdb_file_size(t.dir + "/missing") == -1)
    }
}
