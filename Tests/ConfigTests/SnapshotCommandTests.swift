import Testing
@testable import Config

@Suite struct SnapshotCommandTests {
    func snapshot(_ args: [String]) throws -> SnapshotCommand {
        guard case .subcommand("snapshot", let rest) = parseCommandLine(["snapshot"] + args, environment: [:]) else {
            Issue.record("not dispatched"); throw Failure()
        }
        return try SnapshotCommand.parse(rest)
    }

    @Test func restoreWithFlagsAfterFile() throws {
        let cmd = try snapshot(["restore", "backup.db", "--data-dir", "/var/lib/etcd", "--name", "m1",
                                "--initial-cluster", "m1=http://10.0.0.1:2380", "--initial-advertise-peer-urls", "http://10.0.0.1:2380"])
        guard case .restore(let file, let o) = cmd else { Issue.record("\(cmd)"); return }
        #expect(file == "backup.db")
        #expect(o.dataDir == "/var/lib/etcd" && o.name == "m1")
        #expect(o.initialCluster == "m1=http://10.0.0.1:2380")
        #expect(o.initialAdvertisePeerURLs.map(\.string) == ["http://10.0.0.1:2380"])
    }

    @Test func restoreDefaults() throws {
        guard case .restore(_, let o) = try snapshot(["restore", "s.db", "--name", "x"]) else { return }
        #expect(o.dataDir == "x.etcd")
        #expect(o.initialClusterToken == "etcd-cluster")
    }

    @Test func bumpRevisionNeedsMarkCompacted() throws {
        #expect(throws: CommandLineError.self) { try snapshot(["restore", "s.db", "--bump-revision", "100"]) }
        guard case .restore(_, let o) = try snapshot(["restore", "s.db", "--bump-revision=100", "--mark-compacted"]) else { return }
        #expect(o.bumpRevision == 100 && o.markCompacted)
    }

    @Test func statusWriteOutShortAndLong() throws {
        #expect(try snapshot(["status", "s.db", "-w", "json"]) == .status(file: "s.db", writeOut: "json"))
        #expect(try snapshot(["status", "--write-out=table", "s.db"]) == .status(file: "s.db", writeOut: "table"))
        #expect(try snapshot(["status", "s.db"]) == .status(file: "s.db", writeOut: "simple"))
    }

    @Test func errors() throws {
        #expect(throws: CommandLineError.self) { try snapshot([]) }
        #expect(throws: CommandLineError.self) { try snapshot(["save", "x"]) }
        #expect(throws: CommandLineError.self) { try snapshot(["status"]) }
        #expect(throws: CommandLineError.self) { try snapshot(["status", "a", "b"]) }
        #expect(throws: CommandLineError.self) { try snapshot(["status", "a", "-w", "yaml"]) }
        #expect(throws: CommandLineError.self) { try snapshot(["restore", "a", "--bogus"]) }
    }
}
