import Foundation
import Testing

/// A short `make test-chaos` run on the release binary: a fresh 3-member
/// cluster under kills (one, a majority, all), pauses, restarts, leader
/// moves, compaction, defrag, snapshots and a member replacement while Go
/// clients write, CAS, read, hold leases and watch
/// (Tests/GoClients/chaos). The program checks correctness only — no
/// acknowledged write lost, reads and CAS consistent with the one watch
/// history, members converged, no crash — its time limits bound hangs
/// (60 s each), never speed. The long runs are `make test-chaos`.
@Suite(.serialized) struct ChaosTests {
    @Test func shortChaosRunKeepsEveryInvariant() throws {
        let dir = NSTemporaryDirectory() + "chaos-\(UUID().uuidString)"
        let ports = (0..<6).map { _ in String(freePort()) }.joined(separator: ",")
        var arguments = ["-bin", try PackagePaths.serverBinary, "-dir", dir, "-ports", ports,
                         "-seed", "7", "-duration", "20s", "-clients", "3"]
        if let etcdutl = try? EtcdTools.etcdutl35 { arguments += ["-etcdutl", etcdutl] }
        // The program's own bounds add up to a few minutes at most; this one only catches a hang.
        let result = try ProcessRunner.run(try GoPrograms.binary("chaos"), arguments, timeoutSeconds: 900)
        let summary = result.stdout + "\n" + String(result.stderr.suffix(4000))
        #expect(result.exitCode == 0, "\(summary)")
        #expect(result.stdout.contains("chaos: ok"), "\(summary)")
        // The run did real work: acknowledged writes and reads, and faults.
        #expect(result.stdout.contains("put ok="), "\(summary)")
        #expect(result.stdout.contains("get ok="), "\(summary)")
        #expect(result.stdout.contains("restart="), "\(summary)")
        print(result.stdout.split(separator: "\n").first.map(String.init) ?? "")
        if result.exitCode == 0 { try? FileManager.default.removeItem(atPath: dir) }
    }
}
