import Foundation
import Testing
@testable import Server

/// One process per data dir (`DataDirLock`) and the strict members.json
/// reader (`MembersFile`).
@Suite struct DataDirTests {
    static func tempDir() -> String { NSTemporaryDirectory() + "datadir-test-" + UUID().uuidString }

    /// flock belongs to an open file description: a second acquire, even in
    /// this process, is refused until the first is released.
    @Test func secondAcquireIsRefusedUntilReleased() throws {
        let dir = Self.tempDir() + "/nested/data"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lock = try DataDirLock.acquire(dataDir: dir)
        #expect(FileManager.default.fileExists(atPath: dir + "/swift-etcd.lock"))
        #expect(try String(contentsOfFile: dir + "/swift-etcd.lock", encoding: .utf8) == "\(getpid())\n")
        #expect {
            _ = try DataDirLock.acquire(dataDir: dir)
        } throws: { e in
            let text = "\(e)"
            return e is DataDirLock.InUse && text.contains("\"\(dir)\"") && text.contains("pid \(getpid())")
        }
        #expect(throws: DataDirLock.InUse.self) { try DataDirLock.checkNotInUse(dataDir: dir) }
        lock.release()
        try DataDirLock.checkNotInUse(dataDir: dir)
        let again = try DataDirLock.acquire(dataDir: dir)
        again.release()
    }

    @Test func checkCreatesNothing() throws {
        let dir = Self.tempDir()
        try DataDirLock.checkNotInUse(dataDir: dir)
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    static let good = #"[{"id":12,"name":"a","peerURLs":["http://127.0.0.1:2380"],"clientURLs":[]}]"#

    @Test func membersFileDecodes() throws {
        let m = try MembersFile.decode(Array(Self.good.utf8), path: "m.json")
        #expect(m == [ClusterMember(id: 12, name: "a", peerURLs: ["http://127.0.0.1:2380"], clientURLs: [])])
    }

    /// Every damaged form names the file; JSON syntax errors give the byte
    /// offset, shape errors the field; none falls back to anything.
    @Test func damagedMembersFileNamesFileAndPlace() throws {
        let cases: [(String, UInt64?, String)] = [
            (String(Self.good.prefix(20)), 20, "ends before the JSON does"),
            (#"[{"id":12,,"name":"a"}]"#, 10, "not valid JSON"),
            ("", 0, "ends before"),
            ("[]", 0, "lists no members"),
            (#"{"id":12}"#, nil, "at the top level"),
            (#"[{"id":"12","name":"a","peerURLs":[],"clientURLs":[]}]"#, nil, "at [0].id"),
            (#"[{"id":12,"name":"a","clientURLs":[]}]"#, nil, "\"peerURLs\" is missing"),
        ]
        for (text, offset, words) in cases {
            #expect {
                _ = try MembersFile.decode(Array(text.utf8), path: "/d/member/members.json")
            } throws: { e in
                guard let e = e as? DataFileError else { return false }
                let ok = e.file == "/d/member/members.json" && e.offset == offset && e.description.contains(words)
                    && e.description.contains("etcdctl member remove")
                if !ok { Issue.record("\(text): \(e)") }
                return ok
            }
        }
    }

    @Test func missingOrUnreadableMembersFile() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: DataFileError.self) { _ = try MembersFile.load(path: dir + "/members.json") }
        try FileManager.default.createDirectory(atPath: dir + "/members.json", withIntermediateDirectories: true)
        #expect {
            _ = try MembersFile.load(path: dir + "/members.json")
        } throws: { e in "\(e)".contains("cannot be read") }
    }
}
