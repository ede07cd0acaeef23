import Foundation
import Testing

/// `Maintenance.Snapshot` against clients that stall or leave (issue 18):
/// streams copy nothing to disk, hold little memory, are bounded in number,
/// and their work ends when the client leaves.
@Suite(.serialized) struct SnapshotStreamTests {
    /// `holdSeconds` 0: the streams stay open until `release` closes the returned pipe.
    private func stall(_ endpoint: String, streams: Int, read: Int = 0, holdSeconds: Int) throws -> (process: Process, release: Pipe) {
        let p = Process(), release = Pipe()
        p.executableURL = URL(fileURLWithPath: try GoPrograms.binary("snapstall"))
        p.arguments = ["-endpoint", endpoint, "-streams", "\(streams)", "-read", "\(read)", "-hold", "\(holdSeconds)s"]
        p.standardInput = release
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, release)
    }

    /// The sum of a family's samples for Maintenance.Snapshot (every code for `handled`).
    private func snapshotCount(_ family: String, _ metrics: MetricsTests.Exposition) -> Double {
        metrics.samples.filter { $0.key.hasPrefix(family + "{") && $0.key.contains(#"grpc_method="Snapshot""#) }.values.reduce(0, +)
    }

    private func rssMB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    private func bytesOnDisk(_ dir: String) -> Int64 {
        var total: Int64 = 0
        for case let path as String in FileManager.default.enumerator(atPath: dir) ?? FileManager.DirectoryEnumerator() {
            var st = stat()
            if lstat(dir + "/" + path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { total += Int64(st.st_blocks) * 512 }
        }
        return total
    }

    private func fill(_ server: ServerProcess) throws {
        let r = try ProcessRunner.run(try GoPrograms.binary("maintload"),
                                      ["-endpoint", server.endpoint, "-mode", "fill", "-total", "60000", "-val-size", "1000"],
                                      timeoutSeconds: 300)
        #expect(r.exitCode == 0, "\(r.stderr)")
    }

    @Test func twentyStreamsThatNeverReadHoldNoCopies() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server)
        let pid = try #require(server.process?.processIdentifier)
        let diskBefore = bytesOnDisk(server.dataDir), rssBefore = rssMB(pid)
        let stalled = try stall(server.endpoint, streams: 20, holdSeconds: 0)
        // Measure once all 20 streams reached the member and the 4 it runs at
        // once (MaintenanceService.maxConcurrentStreams) opened their read views.
        let arrived = eventually {
            let started = (try? MetricsTests.scrape(server.clientURL)).map { snapshotCount("grpc_server_started_total", $0) } ?? 0
            return started >= 20 && server.log.components(separatedBy: "\"sending database snapshot to client\"").count - 1 >= 4
        }
        #expect(arrived, "20 streams, 4 sending: \(server.logTail())")
        let diskDuring = bytesOnDisk(server.dataDir), rssDuring = rssMB(pid)
        let copies = try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/member/snap").filter { $0.hasPrefix("db.snapshot-") }
        #expect(copies.isEmpty, "copies of the store: \(copies)")
        // Before: a ~70 MB copy per stream (1.4 GB). Now nothing is written for them.
        #expect(diskDuring - diskBefore < 16 << 20, "disk grew by \(diskDuring - diskBefore) bytes")
        #expect(rssDuring - rssBefore < 150, "RSS \(rssBefore) MB → \(rssDuring) MB with 20 stalled streams")
        // While they stall, the member serves.
        #expect(try EtcdTools.ctl(server.endpoint, ["put", "during", "stall"]).exitCode == 0)
        // None had ended: the figures above were taken while all 20 were open.
        #expect(snapshotCount("grpc_server_handled_total", try MetricsTests.scrape(server.clientURL)) == 0)
        try stalled.release.fileHandleForWriting.close()
        stalled.process.waitUntilExit()
        #expect(stalled.process.terminationStatus == 0)
        // They left: their slots are free again, a full snapshot streams.
        let file = server.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try EtcdTools.save(server.endpoint, to: file)
        let status = try EtcdTools.swiftEtcd(["snapshot", "status", file, "-w", "json"])
        #expect(status.exitCode == 0, "\(status.stderr)")
    }

    @Test func fiftyClientsThatLeaveEarlyLeaveNothingBehind() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server)
        let diskBefore = bytesOnDisk(server.dataDir)
        // Each reads a little, then leaves after 3 s.
        let leaving = try stall(server.endpoint, streams: 50, read: 100_000, holdSeconds: 3).process
        leaving.waitUntilExit()
        #expect(leaving.terminationStatus == 0)
        #expect(bytesOnDisk(server.dataDir) - diskBefore < 16 << 20)
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/member/snap")
            .filter { $0.hasPrefix("db.snapshot-") }.isEmpty)
        // No stream is left holding a slot: four snapshots at once all finish.
        let files = (0..<4).map { server.dataDir + ".snapshot-\($0).db" }
        defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
        let saves = try files.map { f -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try EtcdTools.etcdctl35)
            p.arguments = ["--endpoints", server.endpoint, "snapshot", "save", f]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let deadline = Date().addingTimeInterval(120)
        while saves.contains(where: \.isRunning) && Date() < deadline { usleep(100_000) }
        for p in saves where p.isRunning { p.terminate() }
        #expect(saves.allSatisfy { !$0.isRunning && $0.terminationStatus == 0 })
    }
}
