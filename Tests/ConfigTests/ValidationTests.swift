import Testing
@testable import Config

@Suite struct ValidationTests {
    @Test func urlWithoutScheme() throws {
        let e = try runError(["--listen-client-urls", "localhost:2379"])
        #expect(e.message == "invalid value \"localhost:2379\" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: localhost:2379")
        #expect(e.code == 2)
    }

    @Test func urlNotAURL() throws {
        let e = try runError(["--listen-peer-urls", "foo"])
        #expect(e.message.hasSuffix("URL scheme must be http, https, unix, or unixs: foo"))
        #expect(e.code == 2)
    }

    @Test func emptyURLListIsAnError() throws {
        let e = try runError(["--listen-client-urls="])
        #expect(e.message.hasPrefix("invalid value \"\" for flag -listen-client-urls: URL scheme must be"))
        #expect(e.code == 2)
    }

    @Test func urlWrongScheme() throws {
        #expect(try runError(["--advertise-client-urls", "ftp://1.2.3.4:21"]).code == 2)
    }

    @Test func urlWithoutPort() throws {
        let e = try runError(["--listen-client-urls", "http://127.0.0.1"])
        #expect(e.message.hasSuffix("URL address does not have the form \"host:port\": http://127.0.0.1"))
    }

    @Test func urlWithPath() throws {
        let e = try runError(["--listen-client-urls", "http://127.0.0.1:2379/v3"])
        #expect(e.message.hasSuffix("URL must not contain a path: http://127.0.0.1:2379/v3"))
    }

    @Test func listenURLMustBeIP() throws {
        let e = try runError(["--listen-client-urls", "http://example.com:2379", "--advertise-client-urls", "http://example.com:2379"])
        #expect(e.message == "expected IP in URL for binding (http://example.com:2379)")
        #expect(e.code == 1)
    }

    @Test func listenURLsAcceptIPv4IPv6AndUnix() throws {
        let c = try runConfig([
            "--listen-client-urls", "http://0.0.0.0:2379,http://[::1]:2379,unix://localhost:2379",
            "--advertise-client-urls", "http://10.0.0.1:2379",
        ])
        #expect(c.listenClientURLs.map(\.host) == ["0.0.0.0", "::1", "localhost"])
        #expect(c.listenClientURLs.map(\.portNumber) == [2379, 2379, 2379])
    }

    @Test func listenClientWithoutAdvertise() throws {
        let e = try runError(["--listen-client-urls", "http://127.0.0.1:2379"])
        #expect(e.message == "--advertise-client-urls is required when --listen-client-urls is set explicitly")
        #expect(e.code == 1)
    }

    @Test func httpsClientURLWithoutCerts() throws {
        let e = try runError(["--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379"])
        #expect(e.message == "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2379 with HTTPS scheme")
    }

    @Test func electionMustBeFiveHeartbeats() throws {
        let e = try runError(["--heartbeat-interval", "300", "--election-timeout", "1000"])
        #expect(e.message == "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]")
        #expect(e.code == 1)
    }

    @Test func electionUpperBound() throws {
        let e = try runError(["--heartbeat-interval", "1000", "--election-timeout", "50001"])
        #expect(e.message == "--election-timeout[50001ms] is too long, and should be set less than 50000ms")
    }

    @Test func zeroHeartbeat() throws {
        #expect(try runError(["--heartbeat-interval", "0"]).message == "--heartbeat-interval must be >0 (set to 0ms)")
    }

    @Test func exactlyFiveTimesIsFine() throws {
        #expect(try runConfig(["--heartbeat-interval", "200", "--election-timeout", "1000"]).electionTicks == 5)
    }

    func bootstrapError(_ args: [String]) throws -> String {
        let c = try runConfig(args)  // restart with data: etcd ignores --initial-cluster
        do { try c.validateBootstrap() } catch { #expect(error.exitCode == 1); return error.message }
        Issue.record("expected validateBootstrap to fail")
        throw Failure()
    }

    @Test func nameNotInInitialCluster() throws {
        let m = try bootstrapError(["--name", "x", "--initial-cluster", "a=http://10.0.0.1:2380"])
        #expect(m == "couldn't find local name \"x\" in the initial cluster configuration")
    }

    @Test func initialClusterBadURL() throws {
        let e = try runError(["--initial-cluster", "default=localhost:2380"])
        #expect(e.message.contains("URL scheme must be"))
        #expect(e.code == 1)
    }

    @Test func initialClusterDuplicateURL() throws {
        let m = try bootstrapError(["--initial-cluster", "default=http://localhost:2380,b=http://localhost:2380"])
        #expect(m.hasSuffix("has duplicate url"))
    }

    @Test func initialClusterMustMatchAdvertise() throws {
        let m = try bootstrapError(["--initial-cluster", "default=http://10.0.0.9:2380"])
        #expect(m.contains("missing from --initial-advertise-peer-urls"))
    }

    @Test func existingClusterNeedNotMatchAdvertise() throws {
        let c = try runConfig(["--initial-cluster", "default=http://10.0.0.9:2380", "--initial-cluster-state", "existing"])
        #expect(c.initialClusterState == .existing)
        #expect(throws: Never.self) { try c.validateBootstrap() }
    }

    @Test func defaultsPassBootstrapChecks() throws {
        #expect(throws: Never.self) { try runConfig([]).validateBootstrap() }
        #expect(throws: Never.self) { try runConfig(["--name", "n"]).validateBootstrap() }
    }

    @Test func threeMemberCluster() throws {
        let c = try runConfig([
            "--name", "m2", "--initial-advertise-peer-urls", "http://10.0.0.2:2380",
            "--listen-peer-urls", "http://10.0.0.2:2380",
            "--initial-cluster", "m1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380,m3=http://10.0.0.3:2380",
        ])
        #expect(c.initialClusterMembers.names == ["m1", "m2", "m3"])
        #expect(c.initialClusterMembers["m3"]?.first?.host == "10.0.0.3")
        #expect(throws: Never.self) { try c.validateBootstrap() }
    }

    @Test func capnslogIsRemoved() throws {
        let e = try runError(["--logger", "capnslog"])
        #expect(e.message == "--logger=capnslog is removed in v3.5")
        #expect(e.code == 1)
    }

    @Test func unknownLogger() throws {
        #expect(try runError(["--logger", "logrus"]).message == "unknown logger option \"logrus\"")
    }

    @Test func badLogLevel() throws {
        #expect(try runError(["--log-level", "loud"]).code == 2)
    }

    @Test func logOutputs() throws {
        let c = try runConfig(["--log-outputs", "stdout,stderr,/var/log/etcd.log,stdout"])
        #expect(c.logger.outputs == [.stdout, .stderr, .file("/var/log/etcd.log")])
        #expect(try runConfig(["--log-outputs", "default"]).logger.outputs == [.stderr])
    }

    @Test func leaseCheckpointPersistNeedsCheckpoint() throws {
        let e = try runError(["--experimental-enable-lease-checkpoint-persist"])
        #expect(e.message == "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint")
    }

    @Test func autoCompactionRetentionForms() throws {
        #expect(try runConfig(["--auto-compaction-retention", "5m"]).autoCompactionRetention == .period(.seconds(300)))
        #expect(try runConfig(["--auto-compaction-retention", "2"]).autoCompactionRetention == .period(.seconds(7200)))
        #expect(try runError(["--auto-compaction-retention", "soon"]).code == 1)
        #expect(try runError(["--auto-compaction-mode", "revision", "--auto-compaction-retention", "1h"]).code == 1)
    }

    @Test func unknownAutoCompactionMode() throws {
        let e = try runError(["--auto-compaction-mode", "foo"])
        #expect(e.message == "unknown auto-compaction-mode \"foo\"")
        #expect(e.code == 1)
    }

    @Test func raftTimeoutsAreRaisedToMinimum() throws {
        #expect(try runConfig(["--raft-read-timeout", "1s"]).raftReadTimeout == .seconds(5))
        #expect(try runConfig(["--raft-write-timeout", "10s"]).raftWriteTimeout == .seconds(10))
    }
}

/// Flag values at the edges of their types (issue 18's overflow review):
/// refused or saturated, never a trap.
@Suite struct ExtremeFlagValueTests {
    @Test func durationsPastInt64NanosecondsAreInvalid() throws {
        // 2^63 ns does not fit; Double(Int64.max) rounds up to it.
        #expect(throws: FlagValueError.self) { try GoDuration.parse("9223372036854775807ns") }
        #expect(throws: FlagValueError.self) { try GoDuration.parse("2562048h") }
        #expect(try GoDuration.parse("2562047h") == .seconds(2_562_047 * 3600))
    }

    @Test func hugeHeartbeatIsAValidationError() throws {
        let (message, code) = try runError(["--heartbeat-interval", "4000000000000000000"])
        #expect(code != 0 && message.contains("--election-timeout"), "\(message)")
    }

    @Test func hugeRetentionHoursSaturate() throws {
        let c = try runConfig(["--auto-compaction-retention", "9223372036854775807"])
        #expect(c.autoCompactionRetention == .period(.seconds(Int64.max)))
        #expect(try runConfig(["--max-request-bytes", "18446744073709551615"]).grpcMaxReceiveBytes == .max)
    }
}
