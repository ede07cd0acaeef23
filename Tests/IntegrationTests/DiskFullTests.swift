import Foundation
import Support
import Testing

/// A member whose disk fills up under concurrent writers: it stops with exit
/// status 1 and a message that says so (not a trap that reads as a crash), and
/// once there is room again it restarts with every acknowledged write.
///
/// The data dir is a small tmpfs mounted for the test, so it needs root (as in
/// CI); elsewhere the test records nothing and returns.
@Suite(.serialized) struct DiskFullTests {
    enum Full: String, CaseIterable {
        /// The WAL's segment has room, the store's file cannot grow.
        case store
        /// The store has room, the WAL cannot create its next 64 MB segment.
        case wal
    }

    @Test(arguments: Full.allCases)
    func fullDiskStopsWithStatusOneAndLosesNoAcknowledgedWrite(_ full: Full) throws {
        guard getuid() == 0 else { return }
        let mountPoint = NSTemporaryDirectory() + "swift-etcd-full-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // 64 MB of WAL segment, plus 36 MB (store) or 96 MB (WAL: the store's copy of a full segment fits, a second segment does not).
        let size = full == .store ? "100m" : "160m"
        let mount = try ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=\(size)", "swift-etcd-test", mountPoint])
        try #require(mount.exitCode == 0, "mount tmpfs: \(mount.stderr)")
        let server = try ServerProcess(dataDir: mountPoint)
        defer {
            server.stop()
            _ = try? ProcessRunner.run("umount", [mountPoint])
            server.removeData()
        }
        try server.start()
        let filler = mountPoint + "/filler"
        if full == .store {
            // Leave 6 MB: the preallocated WAL segment takes the writes, the store's file cannot grow past it.
            let free = try #require(FileSystemSpace.availableBytes(at: mountPoint))
            let fill = try ProcessRunner.run("fallocate", ["-l", String(free - 6 << 20), filler])
            try #require(fill.exitCode == 0, "\(fill.stderr)")
        }

        let writer = try AckWriter(endpoints: server.endpoint, clients: 8, ackPath: mountPoint + ".acks", valueBytes: 64 << 10)
        let status = server.waitForExit(seconds: 120)
        writer.stop()
        let acks = try writer.acknowledged()
        #expect(status == 1, "exit status \(String(describing: status)) (4 is SIGILL, a trap): \(server.logTail())")
        let expected = full == .store ? "failed to apply committed entries" : "failed to persist raft state"
        #expect(server.log.contains(expected), "\(server.logTail())")
        if full == .store {
            #expect(server.log.contains("bytes free on the file system of \(mountPoint)"), "\(server.logTail())")
        } else {
            #expect(server.log.contains("No space left on device"), "\(server.logTail())")
        }
        #expect(acks.count >= 50, "only \(acks.count) writes acknowledged before the disk was full")

        // Room again: every acknowledged write is there at its revision.
        try? FileManager.default.removeItem(atPath: filler)
        if full == .wal {
            let grow = try ProcessRunner.run("mount", ["-o", "remount,size=400m", mountPoint])
            try #require(grow.exitCode == 0, "\(grow.stderr)")
        }
        try server.start()
        let found = try ackedKeys(on: server, keysOnly: true)
        let lost = acks.filter { found[$0.key] != $0.revision }
        #expect(lost.isEmpty, "\(lost.count) of \(acks.count) acknowledged writes lost or changed, e.g. \(lost.prefix(3))")
        if let last = acks.last {
            let value = try etcdctl(server.endpoint, ["get", last.key, "--print-value-only"])
            #expect(value.stdout == last.key + String(repeating: "v", count: (64 << 10) - last.key.utf8.count) + "\n")
        }
        #expect(try etcdctl(server.endpoint, ["put", "after", "room"]).exitCode == 0, "\(server.logTail())")
    }
}
