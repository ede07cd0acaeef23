import Foundation
import Testing

/// What makes etcd etcd: an acknowledged write survives kill -9, and a
/// member restarts from its snapshot and WAL.
@Suite(.serialized) struct DurabilityTests {
    /// 20 concurrent clientv3 writers; the server is killed with SIGKILL
    /// mid-stream; after a restart every acknowledged put is present with
    /// the revision it was acknowledged at.
    @Test func acknowledgedWritesUnderConcurrentLoadSurviveKill9() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()

        let writer = try AckWriter(endpoints: server.endpoint, clients: 20, ackPath: server.dataDir + ".acks")
        // Let a few hundred writes be acknowledged, then pull the plug.
        writer.wait(forAcks: 300)
        server.stop(signal: SIGKILL)
        writer.stop()
        let acks = try writer.acknowledged()
        #expect(acks.count >= 300, "only \(acks.count) writes acknowledged before the kill")

        try server.start()
        let found = try ackedKeys(on: server)
        let lost = acks.filter { found[$0.key] != $0.revision }
        #expect(lost.isEmpty, "\(lost.count) acknowledged writes lost or changed, e.g. \(lost.prefix(3))")
    }

    /// With a tiny --snapshot-count the member snapshots and compacts its
    /// log many times; a restart recovers every key from snapshot + WAL.
    @Test func restartAfterManySnapshots() throws {
        let server = try ServerProcess(extraArgs: ["--snapshot-count", "50"])
        defer { server.stop(); server.removeData() }
        try server.start()
        for i in 0..<120 {
            let r = try etcdctl(server.endpoint, ["put", "snap/\(i % 40)", "v\(i)"])
            #expect(r.exitCode == 0, "\(r.stderr)")
        }
        let snapFiles = try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/member/snap")
            .filter { $0.hasSuffix(".snap") }
        #expect(!snapFiles.isEmpty, "no snapshot was taken: \(server.logTail())")

        server.stop(signal: SIGKILL)
        try server.start()
        let all = try etcdctl(server.endpoint, ["get", "snap/", "--prefix", "-w", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any]
        #expect((json?["count"] as? NSNumber)?.intValue == 40)
        let header = json?["header"] as? [String: Any]
        #expect((header?["revision"] as? NSNumber)?.intValue == 121)
        let put = try etcdctl(server.endpoint, ["put", "snap/after", "restart"])
        #expect(put.exitCode == 0, "\(put.stderr)\n\(server.logTail())")
    }

    /// A graceful stop (SIGTERM) ends by that signal, as etcd's, and the data is there after restart.
    @Test func gracefulStopAndRestart() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0)
        let pid = try #require(server.process).processIdentifier
        kill(pid, SIGTERM)
        server.process?.waitUntilExit()
        #expect(server.process?.terminationReason == .uncaughtSignal && server.process?.terminationStatus == SIGTERM)
        try server.start()
        #expect(try etcdctl(server.endpoint, ["get", "k", "--print-value-only"]).stdout == "v\n")
    }
}
