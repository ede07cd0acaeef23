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
        try StorageFlagTests.fragment(server)

        // In use by the running member: refused, nothing touched.
        let refused = try ProcessRunner.run(binary, ["defrag", "--data-dir", server.dataDir])
        #expect(refused.exitCode == 1 && refused.stderr.contains("is in use"), "\(refused.stderr)")

        server.stopTimed(signal: SIGTERM)
        func size() -> Int64 { StorageFlagTests.storeSize(server) }
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
