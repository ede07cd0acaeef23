import Testing
@testable import Config

@Suite struct FlagSyntaxTests {
    @Test(arguments: [
        ["--name", "n1"], ["--name=n1"], ["-name", "n1"], ["-name=n1"],
    ])
    func everyValueFormIsAccepted(args: [String]) throws {
        #expect(try runConfig(args).name == "n1")
    }

    @Test(arguments: [
        (["--force-new-cluster"], true), (["-force-new-cluster"], true),
        (["--force-new-cluster=true"], true), (["--force-new-cluster=false"], false),
        (["--force-new-cluster=1"], true), (["--force-new-cluster=0"], false),
        (["--force-new-cluster=T"], true), (["--force-new-cluster=FALSE"], false),
    ])
    func boolForms(args: [String], expected: Bool) throws {
        #expect(try runConfig(args).forceNewCluster == expected)
    }

    @Test func boolFlagDoesNotConsumeNextArgument() throws {
        // `--strict-reconfig-check false` is `--strict-reconfig-check` then a
        // stray positional, as in Go.
        let e = try runError(["--strict-reconfig-check", "false"])
        #expect(e.message == "'false' is not a valid flag")
        #expect(e.code == 1)
    }

    @Test func valueMayStartWithDash() throws {
        #expect(try runConfig(["--initial-cluster-token", "-tok"]).initialClusterToken == "-tok")
    }

    @Test func valueWithEqualsSign() throws {
        let c = try runConfig(["--initial-cluster=default=http://localhost:2380"])
        #expect(c.initialCluster == "default=http://localhost:2380")
    }

    @Test func lastOccurrenceWins() throws {
        #expect(try runConfig(["--snapshot-count", "5", "--snapshot-count=7"]).snapshotCount == 7)
    }

    @Test func doubleDashEndsFlags() throws {
        let e = try runError(["--name", "x", "--", "--snapshot-count", "1"])
        #expect(e.message == "'--snapshot-count' is not a valid flag")
    }

    @Test func unknownFlagIsUsageError() throws {
        let e = try runError(["--foo"])
        #expect(e.message == "flag provided but not defined: -foo")
        #expect(e.code == 2)
    }

    @Test func unknownSingleDashFlag() throws {
        #expect(try runError(["-foo=1"]).message == "flag provided but not defined: -foo")
    }

    @Test func missingArgument() throws {
        let e = try runError(["--name"])
        #expect(e.message == "flag needs an argument: -name")
        #expect(e.code == 2)
    }

    @Test func badSyntax() throws {
        #expect(try runError(["---name", "x"]).message == "bad flag syntax: ---name")
        #expect(try runError(["-=x"]).message == "bad flag syntax: -=x")
    }

    @Test func badBoolValue() throws {
        let e = try runError(["--auto-tls=maybe"])
        #expect(e.message == "invalid boolean value \"maybe\" for -auto-tls: parse error")
        #expect(e.code == 2)
    }

    @Test func nonNumericUint() throws {
        let e = try runError(["--snapshot-count", "abc"])
        #expect(e.message == "invalid value \"abc\" for flag -snapshot-count: parse error")
        #expect(e.code == 2)
    }

    @Test func negativeSize() throws {
        let e = try runError(["--max-request-bytes", "-1"])
        #expect(e.message.hasPrefix("invalid value \"-1\" for flag -max-request-bytes: parse error"))
        #expect(e.code == 2)
    }

    /// etcd's --quota-backend-bytes is an int64: negative turns the quota
    /// off, 0 means the 2 GiB default.
    @Test func negativeQuotaDisablesIt() throws {
        let c = try runConfig(["--quota-backend-bytes", "-1"])
        #expect(c.quotaBackendBytes == -1 && c.effectiveQuotaBackendBytes == -1)
        #expect(try runConfig([]).effectiveQuotaBackendBytes == 2_147_483_648)
        #expect(try runError(["--quota-backend-bytes=1GB"]).code == 2)
    }

    @Test func negativeUint() throws {
        #expect(try runError(["--max-wals=-1"]).code == 2)
    }

    @Test func badDuration() throws {
        let e = try runError(["--grpc-keepalive-min-time", "5 parsecs"])
        #expect(e.message.hasPrefix("invalid value \"5 parsecs\" for flag -grpc-keepalive-min-time: time:"))
        #expect(e.code == 2)
    }

    @Test func emptyDurationIsAnError() throws {
        let e = try runError(["--backend-batch-interval="])
        #expect(e.message == "invalid value \"\" for flag -backend-batch-interval: time: invalid duration \"\"")
    }

    @Test func badChoice() throws {
        let e = try runError(["--initial-cluster-state", "old"])
        #expect(e.message.contains("-initial-cluster-state"))
        #expect(e.message.contains("\"new\", \"existing\""))
        #expect(e.code == 2)
    }

    @Test func signedIntegerFlag() throws {
        #expect(try runConfig(["--backend-batch-limit", "-3"]).backendBatchLimit == -3)
    }

    @Test func hexAndOctalIntegersAsGo() throws {
        #expect(try runConfig(["--max-txn-ops", "0x10"]).maxTxnOps == 16)
        #expect(try runConfig(["--max-txn-ops", "010"]).maxTxnOps == 8)
    }

    @Test func typedValuesReachConfig() throws {
        let c = try runConfig([
            "--snapshot-count=10", "--heartbeat-interval=50", "--election-timeout=500",
            "--max-request-bytes=2097152", "--max-concurrent-streams=100", "--max-txn-ops=256",
            "--grpc-keepalive-min-time=1s", "--grpc-keepalive-interval=0", "--grpc-keepalive-timeout=1m30s",
            "--quota-backend-bytes=8589934592", "--max-wals=0", "--max-snapshots=2",
            "--auto-compaction-mode=revision", "--auto-compaction-retention=1000",
            "--experimental-watch-progress-notify-interval=5s", "--log-level=debug", "--pre-vote=false",
            "--experimental-initial-corrupt-check", "--unsafe-no-fsync", "--wal-dir=/wal",
        ])
        #expect(c.snapshotCount == 10)
        #expect(c.heartbeatIntervalMs == 50 && c.electionTimeoutMs == 500)
        #expect(c.maxRequestBytes == 2_097_152)
        #expect(c.maxConcurrentStreams == 100)
        #expect(c.maxTxnOps == 256)
        #expect(c.grpcKeepaliveMinTime == .seconds(1))
        #expect(c.grpcKeepaliveInterval == .zero)
        #expect(c.grpcKeepaliveTimeout == .seconds(90))
        #expect(c.quotaBackendBytes == 8_589_934_592)
        #expect(c.maxWALs == 0 && c.maxSnapshots == 2)
        #expect(c.autoCompactionRetention == .revisions(1000))
        #expect(c.experimentalWatchProgressNotifyInterval == .seconds(5))
        #expect(c.logger.level == .debug)
        #expect(!c.preVote)
        #expect(c.experimentalInitialCorruptCheck && c.unsafeNoFsync)
        #expect(c.walDir == "/wal")
        #expect(c.explicitlySet.contains("snapshot-count"))
    }

    @Test func maxConcurrentStreamsOutOfRange() throws {
        let e = try runError(["--max-concurrent-streams", "4294967296"])
        #expect(e.message == "invalid value \"4294967296\" for flag -max-concurrent-streams: value out of range")
        #expect(e.code == 2)
    }

    @Test func legacyIgnoredFlagsAreAccepted() throws {
        let c = try runConfig(["-v", "--name", "x"])
        #expect(c.name == "x")
        #expect(c.warnings.contains { $0.contains("--v ") })
    }

    @Test func parserIsReusableForOtherTables() throws {
        let parser = FlagParser([
            FlagSpec("data-dir", .string, default: "", group: .member, help: ""),
            FlagSpec("write-out", .choice(["simple", "json", "table"]), default: "simple", group: .member, help: ""),
        ])
        let parsed = try parser.parse(["--data-dir", "/d", "-write-out=json", "file.db", "--x"])
        #expect(parsed.values["data-dir"] == .string("/d"))
        #expect(parsed.values["write-out"] == .string("json"))
        #expect(parsed.remaining == ["file.db", "--x"])
        #expect(parsed.order == ["data-dir", "write-out"])
    }
}
