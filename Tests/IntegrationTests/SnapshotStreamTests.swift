import Foundation
import Testing

/// `Maintenance.Snapshot` against clients that stall or leave (issue 18):
/// streams copy nothing to disk, hold little memory, are bounded in number,
/// and their work ends when the client leaves.
@Suite(.serialized) struct SnapshotStreamTests {
    private func stall(_ endpoint: String, streams: Int, read: Int = 0, holdSeconds: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try GoPrograms.binary("snapstall"))
        p.arguments = ["-endpoint", endpoint, "-streams", "\(streams)", "-read", "\(read)", "-hold", "\(holdSeconds)s"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
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
        let stalled = try stall(server.endpoint, streams: 20, holdSeconds: 8)
        sleep(4)
        let diskDuring = bytesOnDisk(server.dataDir), rssDuring = rssMB(pid)
        let copies = try FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/member/snap").filter { $0.hasPrefix("db.snapshot-") }
        #expect(copies.isEmpty, "copies of the store: \(copies)")
        // Before: a ~70 MB copy per stream (1.4 GB). Now nothing is written for them.
        #expect(diskDuring - diskBefore < 16 << 20, "disk grew by \(diskDuring - diskBefore) bytes")
        #expect(rssDuring - rssBefore < 150, "RSS \(rssBefore) MB → \(rssDuring) MB with 20 stalled streams")
        // While they stall, the member serves.
        #expect(try EtcdTools.ctl(server.endpoint, ["put", "during", "stall"]).exitCode == 0)
        stalled.waitUntilExit()
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
        let leaving = try stall(server.endpoint, streams: 50, read: 100_000, holdSeconds: 3)
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
