import Foundation
import Testing

/// What makes etcd etcd: an acknowledged write survives kill -9, and a
/// member restarts from its snapshot and WAL.
@Suite(.serialized) struct DurabilityTests {
    /// 20 concurrent clientv3 writers; the server is killed with SIGKILL
    /// mid-stream; after a restart every acknowledged put is present with
    /// the revision it was acknowledged at.
    @Test func acknowledgedWritesUnderConcurrentLoadSurviveKill9() throws {
        let writer = try GoPrograms.binary("ackwriter")
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()

        let ackPath = server.dataDir + ".acks"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: writer)
        process.arguments = ["-endpoint", server.endpoint, "-clients", "20"]
        FileManager.default.createFile(atPath: ackPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: ackPath)
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Let a few hundred writes be acknowledged, then pull the plug.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? String(contentsOfFile: ackPath, encoding: .utf8))?.split(separator: "\n").count ?? 0 < 300 {
            usleep(20_000)
        }
        server.stop(signal: SIGKILL)
        process.terminate()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: ackPath) }

        let acks = try String(contentsOfFile: ackPath, encoding: .utf8).split(separator: "\n").compactMap { line -> (String, Int64)? in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let rev = Int64(parts[1]) else { return nil }
            return (String(parts[0]), rev)
        }
        #expect(acks.count >= 300, "only \(acks.count) writes acknowledged before the kill")

        try server.start()
        let dump = try etcdctl(server.endpoint, ["get", "ack/", "--prefix", "-w", "json"])
        #expect(dump.exitCode == 0, "\(dump.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
        var found: [String: Int64] = [:]
        for kv in json?["kvs"] as? [[String: Any]] ?? [] {
            guard let k = kv["key"] as? String, let data = Data(base64Encoded: k),
                  let rev = (kv["mod_revision"] as? NSNumber)?.int64Value else { continue }
            found[String(decoding: data, as: UTF8.self)] = rev
        }
        let lost = acks.filter { found[$0.0] != $0.1 }
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

    /// A graceful stop (SIGTERM) exits 0 and the data is there after restart.
    @Test func gracefulStopAndRestart() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0)
        let pid = try #require(server.process).processIdentifier
        kill(pid, SIGTERM)
        server.process?.waitUntilExit()
        #expect(server.process?.terminationStatus == 0)
        try server.start()
        #expect(try etcdctl(server.endpoint, ["get", "k", "--print-value-only"]).stdout == "v\n")
    }
}
