import Foundation
import Testing

/// `swift-etcd defrag --data-dir DIR`: etcdutl's offline defragmentation.
@Suite("defrag subcommand", .serialized)
struct DefragCommandTests {
    @Test func defragmentsAStoppedMemberAndRefusesOneInUse() throws {
        let binary = try PackagePaths.serverBinary
        let server = try ServerProcess()
        try server.start()
        defer { server.stop(); server.removeData() }
        let value = String(repeating: "d", count: 512 * 1024)
        for i in 0..<30 { #expect(try etcdctl(server.endpoint, ["put", "big/\(i)"], stdin: value).exitCode == 0) }
        #expect(try etcdctl(server.endpoint, ["del", "big/", "--prefix"]).exitCode == 0)
        let rev = try MetricsTests.scrape(server.clientURL).value("etcd_debugging_mvcc_current_revision")
        #expect(try etcdctl(server.endpoint, ["compact", String(Int(rev)), "--physical"]).exitCode == 0)

        // In use by the running member: refused, nothing touched.
        let refused = try ProcessRunner.run(binary, ["defrag", "--data-dir", server.dataDir])
        #expect(refused.exitCode == 1 && refused.stderr.contains("is in use"), "\(refused.stderr)")

        server.stopTimed(signal: SIGTERM)
        let db = server.dataDir + "/member/snap/db/data.mdb"
        func size() -> Int64 { ((try? FileManager.default.attributesOfItem(atPath: db))?[.size] as? Int64) ?? 0 }
        let before = size()
        let done = try ProcessRunner.run(binary, ["defrag", "--data-dir", server.dataDir], timeoutSeconds: 120)
        #expect(done.exitCode == 0, "\(done.stderr)")
        #expect(done.stderr.contains("\tfinished defragmenting directory\t"), "\(done.stderr)")
        #expect(size() < before / 2, "\(size()) after, \(before) before")

        try server.start()
        #expect(try etcdctl(server.endpoint, ["put", "after", "defrag"]).exitCode == 0)

        let missing = try ProcessRunner.run(binary, ["defrag"])
        #expect(missing.exitCode == 1 && missing.stderr.contains("required flag(s) \"data-dir\" not set"), "\(missing.stderr)")
        let nothing = try ProcessRunner.run(binary, ["defrag", "--data-dir", "/tmp/swift-etcd-no-such-dir"])
        #expect(nothing.exitCode == 1 && nothing.stderr.contains("no such file or directory"))
    }
}
