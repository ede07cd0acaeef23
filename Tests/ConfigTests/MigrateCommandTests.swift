import Testing
@testable import Config

@Suite struct MigrateCommandTests {
    func migrate(_ args: [String]) throws -> MigrateCommand {
        guard case .subcommand("migrate", let rest) = parseCommandLine(["migrate"] + args, environment: [:]) else {
            Issue.record("not dispatched"); throw Failure()
        }
        return try MigrateCommand.parse(rest)
    }

    @Test func takesRestoresClusterFlags() throws {
        let cmd = try migrate(["--from-etcd-data-dir", "/var/lib/etcd", "--data-dir", "/var/lib/swift-etcd", "--name", "m1",
                               "--initial-cluster", "m1=http://10.0.0.1:2380", "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
                               "--initial-cluster-token", "tok"])
        #expect(cmd.etcdDataDir == "/var/lib/etcd")
        #expect(cmd.options.dataDir == "/var/lib/swift-etcd" && cmd.options.name == "m1")
        #expect(cmd.options.initialCluster == "m1=http://10.0.0.1:2380" && cmd.options.initialClusterToken == "tok")
        #expect(cmd.options.skipHashCheck)
    }

    @Test func defaultsAndErrors() throws {
        let cmd = try migrate(["--from-etcd-data-dir=old.etcd", "--name", "x"])
        #expect(cmd.options.dataDir == "x.etcd")
        #expect(throws: CommandLineError.self) { try migrate(["--data-dir", "d"]) }
        #expect(throws: CommandLineError.self) { try migrate(["--from-etcd-data-dir", "e", "extra"]) }
        #expect(throws: CommandLineError.self) { try migrate(["--from-etcd-data-dir", "e", "--bump-revision", "1"]) }
    }
}
