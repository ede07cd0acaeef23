import Foundation
import Testing
@testable import MVCC

/// A damaged `data.mdb` is refused before LMDB maps it, naming the file and
/// the offset; a truncated file never reaches LMDB (it would be SIGBUS).
@Suite struct StoreFileCheckTests {
    /// A closed store with some keys; returns its directory and data file bytes.
    static func makeStore() throws -> (dir: String, bytes: [UInt8]) {
        let t = try TempStore()
        for i in 0..<300 { try t.put("key\(i)", String(repeating: "v", count: 200)) }
        t.store.close()
        let dir = NSTemporaryDirectory() + "store-check-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: t.dir + "/data.mdb")))
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/data.mdb"))
        return (dir, bytes)
    }

    static func open(_ dir: String, with bytes: [UInt8]) -> Error? {
        try? Data(bytes).write(to: URL(fileURLWithPath: dir + "/data.mdb"))
        try? FileManager.default.removeItem(atPath: dir + "/lock.mdb")
        do {
            var o = MVCCStore.Options()
            o.mapSizeBytes = 1 << 30
            let s = try MVCCStore(path: dir, options: o)
            s.close()
            return nil
        } catch {
            return error
        }
    }

    static func le64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }

    @Test func healthyStoreOpens() throws {
        let (dir, bytes) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(Self.open(dir, with: bytes) == nil)
    }

    @Test func truncatedFileNamesTheSizeAndTheMetaPage() throws {
        let (dir, bytes) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for keep in [bytes.count - 4096, bytes.count / 2, 9000] {
            let e = Self.open(dir, with: Array(bytes.prefix(keep))) as? StoreFileError
            #expect(e?.file == dir + "/data.mdb")
            #expect(e?.offset == UInt64(keep), "\(String(describing: e))")
            #expect(e?.reason.contains("truncated") == true, "\(String(describing: e))")
        }
        let tiny = Self.open(dir, with: Array(bytes.prefix(100))) as? StoreFileError
        #expect(tiny?.offset == 0 && tiny?.reason.contains("too short") == true, "\(String(describing: tiny))")
    }

    @Test func damagedMetaPagesNameTheirOffsets() throws {
        let (dir, bytes) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for page in [0, 4096] {
            var b = bytes
            for i in page + 16..<page + 24 { b[i] = 0xFF }
            let e = Self.open(dir, with: b) as? StoreFileError
            #expect(e?.offset == UInt64(page), "\(String(describing: e))")
            #expect(e?.reason.contains("not an LMDB meta page") == true)
        }
    }

    @Test func garbageRootPageIsNamed() throws {
        let (dir, bytes) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The current meta page is the one with the higher txnid (at 144).
        let meta = Self.le64(bytes, 144) > Self.le64(bytes, 4096 + 144) ? 0 : 4096
        let root = Int(Self.le64(bytes, meta + 128))
        var b = bytes
        for i in root * 4096..<root * 4096 + 4096 { b[i] = 0 }
        let e = Self.open(dir, with: b) as? StoreFileError
        #expect(e?.offset == UInt64(root * 4096), "\(String(describing: e))")
        #expect(e?.reason.contains("root page") == true)
    }

    @Test func aDirectoryInPlaceOfTheFileIsUnreadable() throws {
        let dir = NSTemporaryDirectory() + "store-check-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/data.mdb", withIntermediateDirectories: true)
        let e = Self.open(dir, with: []) as? StoreFileError
        #expect(e?.unreadable == true, "\(String(describing: e))")
    }

    /// A file where the store's directory belongs is named, not reported
    /// as Foundation's "A file with the same name already exists".
    @Test func aFileInPlaceOfTheStoreDirectoryIsNamed() throws {
        let path = NSTemporaryDirectory() + "store-check-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        #expect {
            try MVCCStore(path: path).close()
        } throws: { e in
            let e = e as? StoreFileError
            return e?.file == path && e?.unreadable == true && e?.reason.hasPrefix("not a directory") == true
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))  // left as it was
    }

    /// LMDB itself would blame the store directory ("env_open <dir> failed: Is a
    /// directory"); the check names lock.mdb.
    @Test func aDirectoryInPlaceOfTheLockFileIsNamed() throws {
        let (dir, bytes) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/data.mdb"))
        try FileManager.default.createDirectory(atPath: dir + "/lock.mdb", withIntermediateDirectories: true)
        var o = MVCCStore.Options()
        o.mapSizeBytes = 1 << 30
        #expect {
            try MVCCStore(path: dir, options: o).close()
        } throws: { e in
            (e as? StoreFileError)?.file == dir + "/lock.mdb" && (e as? StoreFileError)?.unreadable == true
        }
    }
}
