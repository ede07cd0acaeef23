import Testing
@testable import Config

@Suite struct DefaultsTests {
    func run(_ args: [String] = [], env: [String: String] = [:]) throws -> EtcdConfig {
        let result = parseCommandLine(args, environment: env)
        guard case .run(let config) = result else {
            Issue.record("expected .run, got \(result)")
            throw CancellationError()
        }
        return config
    }

    @Test func noArgumentsGiveEtcdDefaults() throws {
        let c = try run()
        #expect(c.name == "default")
        #expect(c.dataDir == "default.etcd")
        #expect(c.walDir == "")
        #expect(c.listenClientURLs.map(\.string) == ["http://localhost:2379"])
        #expect(c.advertiseClientURLs.map(\.string) == ["http://localhost:2379"])
        #expect(c.listenPeerURLs.map(\.string) == ["http://localhost:2380"])
        #expect(c.initialAdvertisePeerURLs.map(\.string) == ["http://localhost:2380"])
        #expect(c.initialCluster == "default=http://localhost:2380")
        #expect(c.initialClusterState == .new)
        #expect(c.initialClusterToken == "etcd-cluster")
        #expect(c.snapshotCount == 100_000)
        #expect(c.heartbeatIntervalMs == 100)
        #expect(c.electionTimeoutMs == 1000)
        #expect(c.electionTicks == 10)
        #expect(c.maxRequestBytes == 1_572_864)
        #expect(c.maxConcurrentStreams == UInt32.max)
        #expect(c.maxTxnOps == 128)
        #expect(c.maxWALs == 5)
        #expect(c.maxSnapshots == 5)
        #expect(c.quotaBackendBytes == 0)
        #expect(c.grpcKeepaliveMinTime == .seconds(5))
        #expect(c.grpcKeepaliveInterval == .seconds(7200))
        #expect(c.grpcKeepaliveTimeout == .seconds(20))
        #expect(c.strictReconfigCheck)
        #expect(c.preVote)
        #expect(c.autoCompactionMode == .periodic)
        #expect(c.autoCompactionRetention == .disabled)
        #expect(c.logger == LoggerConfig())
        #expect(c.logger.level == .info)
        #expect(c.logger.outputs == [.stderr])
        #expect(!c.enableV2)
        #expect(!c.enablePprof)
        #expect(c.metrics == "basic")
        #expect(c.experimentalWatchProgressNotifyInterval == .seconds(600))
        #expect(c.experimentalWarningApplyDuration == .milliseconds(100))
        #expect(c.configFile == nil)
        #expect(c.explicitlySet.isEmpty)
        #expect(c.warnings.isEmpty)
    }

    @Test func nameChangesDataDirAndInitialCluster() throws {
        let c = try run(["--name", "infra1"])
        #expect(c.dataDir == "infra1.etcd")
        #expect(c.initialCluster == "infra1=http://localhost:2380")
        #expect(c.initialClusterMembers.names == ["infra1"])
    }

    @Test func makeRunCommandLineIsAccepted() throws {
        let c = try run(["--name", "default", "--data-dir", "default.etcd",
                         "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379"])
        #expect(c.listenClientURLs.first?.portNumber == 2379)
        #expect(c.listenClientURLs.first?.host == "127.0.0.1")
        #expect(throws: Never.self) { try c.validateBootstrap() }
    }

    @Test func derivedValues() throws {
        let c = try run()
        #expect(c.grpcMaxReceiveBytes == 1_572_864 + 524_288)
        #expect(c.effectiveQuotaBackendBytes == 2_147_483_648)
        #expect(c.effectiveWALDir == "default.etcd/member/wal")
        #expect(try run(["--wal-dir", "/w"]).effectiveWALDir == "/w")
    }

    @Test func explicitDataDirIsKept() throws {
        #expect(try run(["--name", "a", "--data-dir", "/var/lib/etcd"]).dataDir == "/var/lib/etcd")
    }

    @Test func everyTableDefaultParses() {
        for spec in EtcdServerFlags.all {
            #expect(spec.parsedDefault == spec.parsedDefault, "\(spec.name)")  // traps if it does not parse
        }
    }

    @Test func flagNamesAreUnique() {
        #expect(Set(EtcdServerFlags.all.map(\.name)).count == EtcdServerFlags.all.count)
    }
}
