import Foundation
import Testing
import WAL

/// A graceful stop saves a Raft commit index that covers everything the
/// member applied: commit-only hard states are written unsynced (etcd's
/// MustSync), and etcd's WAL close syncs them; before this the last one was
/// dropped, so a restarted member's saved commit trailed what it had applied
/// and acknowledged (e.g. HardState commit 4 with 5 entries applied).
@Suite struct CommitIndexRestartTests {
    static func status(_ server: ServerProcess) throws -> (index: UInt64, applied: UInt64) {
        let r = try etcdctl(server.endpoint, ["endpoint", "status", "-w", "json"])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        let body = list?.first?["Status"] as? [String: Any]
        return ((body?["raftIndex"] as? NSNumber)?.uint64Value ?? 0, (body?["raftAppliedIndex"] as? NSNumber)?.uint64Value ?? 0)
    }

    @Test func gracefulStopSavesTheAppliedCommitIndex() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        for i in 0..<5 {
            let put = try etcdctl(server.endpoint, ["put", "commit/\(i)", "v"])
            #expect(put.exitCode == 0, "\(put.stderr)")
        }
        let before = try Self.status(server)
        #expect(before.applied >= 5 && before.index >= before.applied, "\(before)")
        #expect(server.stopTimed().status == SIGTERM, "\(server.logTail())")

        let saved = try WAL.open(dir: server.dataDir + "/member/wal", from: .zero)
        defer { try? saved.wal.close() }
        #expect(saved.hardState.commit >= before.applied, "saved \(saved.hardState), applied \(before.applied)")
        // Never a commit index past what the log holds.
        #expect(saved.hardState.commit <= (saved.entries.last?.index ?? 0), "\(saved.hardState) \(saved.entries.count)")

        try server.start()
        let after = try Self.status(server)
        #expect(after.applied >= before.applied && after.index >= after.applied, "before \(before), after \(after)")
        let get = try etcdctl(server.endpoint, ["get", "commit/4", "--print-value-only"])
        #expect(get.stdout == "v\n", "\(get.stdout) \(get.stderr)")
    }
}
