import Foundation
import TestSupport
import Testing

/// When a member must not start, it says so at once and exits 1 (never a
/// crash): another process holds its data dir, or a file of the data dir
/// is damaged or unreadable. The message names the file, the offset where
/// it applies, and what the operator can do; nothing falls back silently.
@Suite(.serialized) struct StartupRefusalTests {
    /// Runs the binary with `m`'s flags until it exits (it must not serve).
    static func refusedStart(_ m: ServerProcess) throws -> CommandResult {
        try swiftEtcd(m.arguments, timeoutSeconds: 30)
    }

    /// Exit status 1 (not a signal, not the timeout's SIGKILL) and no crash report.
    static func expectCleanRefusal(_ r: CommandResult, _ context: String) {
        #expect(r.exitCode == 1, "\(context): exit \(r.exitCode): \(r.stderr)")
        for crash in ["Program crashed", "Fatal error", "Backtrace", "Segmentation", "Thread 0"] {
            #expect(!r.stderr.contains(crash), "\(context): \(r.stderr)")
        }
    }

    // MARK: one process per data dir

    @Test func secondProcessOnADataDirInUseIsRefused() throws {
        let first = try ServerProcess()
        defer { first.stop(); first.removeData() }
        try first.start()
        #expect(try etcdctl(first.endpoint, ["put", "k", "v"]).exitCode == 0)
        let pid = try #require(first.process).processIdentifier

        // Other ports, same dir; and the very same flags (the lock is checked
        // before the ports, so the message is about the dir either way).
        let other = try ServerProcess(dataDir: first.dataDir)
        for (what, flags) in [("other ports", other.arguments), ("same flags", first.arguments)] {
            let r = try swiftEtcd(flags, timeoutSeconds: 30)
            Self.expectCleanRefusal(r, what)
            #expect(r.stderr.contains("data-dir \"\(first.dataDir)\" is in use by another process (pid \(pid))"), "\(what): \(r.stderr)")
        }
        let restore = try swiftEtcd(["snapshot", "restore", "/dev/null", "--data-dir", first.dataDir])
        #expect(restore.exitCode == 1)
        #expect(restore.stderr.contains("data-dir \"\(first.dataDir)\" is in use by another process (pid \(pid))"), "\(restore.stderr)")
        // The first member never noticed.
        #expect(try etcdctl(first.endpoint, ["get", "k", "--print-value-only"]).stdout == "v\n")

        // kill -9: the kernel drops the lock, and the dir starts again at once.
        first.stop(signal: SIGKILL)
        try other.start()
        defer { other.stop() }
        #expect(try etcdctl(other.endpoint, ["get", "k", "--print-value-only"]).stdout == "v\n")
    }

    // MARK: damaged or unreadable files

    /// A stopped member with data, several snapshot files and a compacted log.
    static func stoppedMember() throws -> ServerProcess {
        let m = try ServerProcess(extraArgs: ["--snapshot-count", "20"])
        try m.start()
        for i in 0..<70 { _ = try etcdctl(m.endpoint, ["put", "k\(i % 10)", "v\(i)"]) }
        #expect(m.stop(signal: SIGTERM) == SIGTERM)
        return m
    }

    static func files(_ dir: String, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(suffix) }.sorted().map { dir + "/" + $0 }
    }

    static func flip(_ path: String, at offset: Int) throws {
        let h = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? h.close() }
        try h.seek(toOffset: UInt64(offset))
        let byte = try #require(try h.read(upToCount: 1)?.first)
        try h.seek(toOffset: UInt64(offset))
        try h.write(contentsOf: Data([byte ^ 0x5A]))
    }

    /// Each damage is refused with the file, the offset and a remedy; the
    /// intact copy of the file starts again (nothing else was touched).
    @Test func damagedFilesStopStartUpNamingFileOffsetAndRemedy() throws {
        let m = try Self.stoppedMember()
        defer { m.stop(); m.removeData() }
        let member = m.dataDir + "/member"
        let members = member + "/members.json"
        let wal = try #require(try Self.files(member + "/wal", suffix: ".wal").first)
        let db = member + "/snap/db/data.mdb"
        let membersSize = try #require(FileManager.default.contents(atPath: members)).count
        let dbSize = try #require(FileManager.default.contents(atPath: db)).count

        struct Damage {
            let name: String, file: String, expected: [String], damage: () throws -> Void
        }
        let damages: [Damage] = [
            Damage(name: "members.json cut short", file: members,
                   expected: ["\(members) at offset \(membersSize / 2)", "ends before the JSON does", "Restore the file"]) {
                let b = try #require(FileManager.default.contents(atPath: members))
                try b.prefix(membersSize / 2).write(to: URL(fileURLWithPath: members))
            },
            Damage(name: "members.json not JSON", file: members, expected: ["\(members) at offset 0", "not valid JSON"]) {
                try Data("garbage".utf8).write(to: URL(fileURLWithPath: members))
            },
            Damage(name: "members.json missing", file: members, expected: ["\(members): the member table is missing"]) {
                try FileManager.default.removeItem(atPath: members)
            },
            Damage(name: "WAL record flipped", file: wal,
                   expected: ["\(wal) at offset 32", "corrupt WAL record: CRC mismatch", "etcdctl member remove"]) {
                try Self.flip(wal, at: 40)  // inside the second record (the first is the 16-byte metadata)
            },
            Damage(name: "WAL segment unreadable", file: wal, expected: ["\(wal):", "Is a directory", "regular file"]) {
                try FileManager.default.removeItem(atPath: wal)
                try FileManager.default.createDirectory(atPath: wal, withIntermediateDirectories: false)
            },
            Damage(name: "LMDB file truncated", file: db,
                   expected: ["\(db) at offset \(dbSize / 2)", "truncated", "swift-etcd snapshot restore"]) {
                let h = try #require(FileHandle(forUpdatingAtPath: db))
                try h.truncate(atOffset: UInt64(dbSize / 2))
                try h.close()
            },
            Damage(name: "LMDB meta page", file: db, expected: ["\(db) at offset 0", "not an LMDB meta page"]) {
                try Self.flip(db, at: 16)
            },
        ]
        for d in damages {
            let intact = d.file + ".intact"
            try FileManager.default.copyItem(atPath: d.file, toPath: intact)
            try d.damage()
            let r = try Self.refusedStart(m)
            Self.expectCleanRefusal(r, d.name)
            for words in d.expected { #expect(r.stderr.contains(words), "\(d.name): missing \"\(words)\" in: \(r.stderr)") }
            try? FileManager.default.removeItem(atPath: d.file)
            try FileManager.default.moveItem(atPath: intact, toPath: d.file)
        }
        try m.start()
        #expect(try etcdctl(m.endpoint, ["get", "k9", "--print-value-only"]).stdout == "v69\n")
    }

    /// A damaged snapshot file stops start-up (the member does not quietly
    /// take an older one); moved aside as the message says, the member
    /// starts from the previous snapshot and the WAL, with every key.
    @Test func damagedSnapshotFileStopsStartUpAndTheRemedyWorks() throws {
        let m = try Self.stoppedMember()
        defer { m.stop(); m.removeData() }
        let snaps = try Self.files(m.dataDir + "/member/snap", suffix: ".snap")
        #expect(snaps.count >= 2, "\(snaps)")
        let newest = try #require(snaps.last)
        let size = try #require(FileManager.default.contents(atPath: newest)).count
        try Self.flip(newest, at: size / 2)
        let r = try Self.refusedStart(m)
        Self.expectCleanRefusal(r, "snapshot")
        for words in ["\(newest) at offset \(size - 4)", "corrupt snapshot file", "rename it to \(newest).broken"] {
            #expect(r.stderr.contains(words), "missing \"\(words)\" in: \(r.stderr)")
        }
        try FileManager.default.moveItem(atPath: newest, toPath: newest + ".broken")
        try m.start()
        for i in 0..<10 {
            #expect(try etcdctl(m.endpoint, ["get", "k\(i)", "--print-value-only"]).stdout == "v\(60 + i)\n")
        }
    }

    /// A follower killed under writes whose last WAL segment then lost its
    /// tail (found by the peer fuzzer): the torn tail is repaired, but the
    /// store has applied entries the log no longer holds. It used to start,
    /// log "failed to publish local member" every 7 s, never become ready and
    /// still vote; etcd 3.5.1 stops it at the leader's first heartbeat
    /// ("tocommit(…) is out of range [lastIndex(…)]"). Refused at start-up,
    /// naming both indexes and the remedy.
    @Test func followerWhoseWALLostAppliedEntriesIsRefused() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        try cluster.start()
        let leader = try cluster.waitForLeader(among: cluster.members)
        let follower = try #require(cluster.members.first { cluster.status($0)?.memberID != leader })
        let value = String(repeating: "v", count: 1000)
        for i in 0..<100 { _ = try etcdctl(cluster.members[0].endpoint, ["put", "k\(i)", value]) }
        // The follower applied every write before it is killed.
        var applied = false
        for _ in 0..<100 where !applied {
            applied = (try? etcdctl(follower.endpoint, ["get", "k99", "--consistency=s", "--print-value-only"]).stdout) == value + "\n"
            if !applied { usleep(100_000) }
        }
        #expect(applied, "k99 never reached \(follower.name)")
        follower.stop(signal: SIGKILL)

        let segment = try #require(try Self.files(follower.dataDir + "/member/wal", suffix: ".wal").last)
        let bytes = try #require(FileManager.default.contents(atPath: segment))
        let end = (bytes.lastIndex { $0 != 0 } ?? 0) + 1  // segments are preallocated with zeros
        let h = try #require(FileHandle(forUpdatingAtPath: segment))
        try h.truncate(atOffset: UInt64(end * 6 / 10 + 3))
        try h.close()

        let r = try Self.refusedStart(follower)
        Self.expectCleanRefusal(r, "WAL cut behind the store")
        for words in ["cannot start from \(segment)", "the log ends at index", "has applied entries up to index",
                      "the WAL lost entries this member had applied (data dir \(follower.dataDir))",
                      "etcdctl member remove"] {
            #expect(r.stderr.contains(words), "missing \"\(words)\" in: \(r.stderr)")
        }
    }

    // MARK: a port taken, a certificate missing

    /// A listening socket on 127.0.0.1:`port`, closed by the caller.
    static func holdPort(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0 && bindLoopback(fd, port: port) == 0 && listen(fd, 8) == 0, "cannot hold port \(port)")
        return fd
    }

    /// Each failure point of start-up, many times, on a new and on an
    /// existing data dir: exit status 1 with etcd's message, never a signal
    /// (a start failing after Raft, the persist thread and the event loops
    /// were running once ended in "Illegal instruction").
    @Test(arguments: ["client port", "peer port", "metrics port", "certificate", "data dir"])
    func refusedStartExitsOneEveryTime(_ what: String) throws {
        let holder = try ServerProcess()  // the data dir a second process must not open
        defer { holder.stop(); holder.removeData() }
        if what == "data dir" { try holder.start() }
        let existing = try ServerProcess()  // a stopped member with data
        defer { existing.removeData() }
        try existing.start()
        #expect(try etcdctl(existing.endpoint, ["put", "k", "v"]).exitCode == 0)
        existing.stop(signal: SIGTERM)
        for attempt in 0..<8 {
            let taken = freePort()
            let fd = try Self.holdPort(taken)
            defer { close(fd) }
            let dir: String? = attempt % 2 == 0 ? nil : existing.dataDir
            let m: ServerProcess
            let expected: String
            switch what {
            case "client port":
                m = try ServerProcess(dataDir: dir, clientPort: taken)
                expected = "listen tcp 127.0.0.1:\(taken): bind: address already in use"
            case "peer port":
                m = try ServerProcess(dataDir: dir, peerPort: taken)
                expected = "listen tcp 127.0.0.1:\(taken): bind: address already in use"
            case "metrics port":
                m = try ServerProcess(extraArgs: ["--listen-metrics-urls", "http://127.0.0.1:\(taken)"], dataDir: dir)
                expected = "listen tcp 127.0.0.1:\(taken): bind: address already in use"
            case "certificate":
                m = try ServerProcess(extraArgs: ["--cert-file", "/nonexistent/server.crt", "--key-file", "/nonexistent/server.key"],
                                      dataDir: dir, clientScheme: "https")
                expected = "/nonexistent/server.crt: no such file or directory"
            default:
                m = try ServerProcess(dataDir: holder.dataDir)
                expected = "is in use by another process"
            }
            defer { if dir == nil && what != "data dir" { m.removeData() } }
            let r = try Self.refusedStart(m)
            Self.expectCleanRefusal(r, "\(what) #\(attempt)")
            #expect(r.stderr.contains(expected), "\(what) #\(attempt): \(r.stderr)")
        }
        // The existing member's data survived every refused start.
        try existing.start()
        defer { existing.stop() }
        #expect(try etcdctl(existing.endpoint, ["get", "k", "--print-value-only"]).stdout == "v\n")
    }
}
