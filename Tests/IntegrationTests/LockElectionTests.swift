import Foundation
import Testing

/// The server-side Lock and Election services through Go's generated
/// v3lockpb/v3electionpb clients: the same program must pass against real
/// etcd 3.5.1 (so it checks etcd's behaviour, not ours) and against us.
@Suite(.serialized) struct LockElectionTests {
    @Test func goLockAndElectionClientsBehaveAsOnEtcd() throws {
        let binary = try GoPrograms.binary("lockelect")
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); reference.stop(); reference.removeData() }
        try ours.start()
        try reference.start()
        for server in [reference, ours] {
            let result = try ProcessRunner.run(binary, ["-endpoint", server.endpoint], timeoutSeconds: 120)
            #expect(result.exitCode == 0, "\(server.endpoint): \(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("all checks passed"))
        }
    }
}
