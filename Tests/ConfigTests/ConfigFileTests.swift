import Testing
@testable import Config

@Suite struct ConfigFileTests {
    let sample = """
        # etcd.conf.yml
        name: 'infra1'
        data-dir: /var/lib/etcd/infra1
        wal-dir:
        snapshot-count: 5000
        heartbeat-interval: 50
        election-timeout: 500
        quota-backend-bytes: 1073741824
        listen-peer-urls: http://127.0.0.1:12380
        listen-client-urls: http://127.0.0.1:12379,http://127.0.0.1:22379
        max-snapshots: 3
        max-wals: 4
        initial-advertise-peer-urls: http://127.0.0.1:12380
        advertise-client-urls: http://127.0.0.1:12379
        initial-cluster: infra1=http://127.0.0.1:12380
        initial-cluster-token: 'tok'
        initial-cluster-state: 'new'
        strict-reconfig-check: false
        enable-v2: false
        enable-pprof: false
        auto-compaction-mode: periodic
        auto-compaction-retention: 1
        grpc-keepalive-min-time: 1000000000
        experimental-watch-progress-notify-interval: 5s
        logger: zap
        log-level: warn
        log-outputs: [stdout, /tmp/etcd.log]
        force-new-cluster: false
        client-transport-security:
          cert-file:
          key-file:
          client-cert-auth: false
          auto-tls: false
        peer-transport-security:
          auto-tls: false
        """

    @Test func sampleFileIsRead() throws {
        let c = try runConfig(["--config-file", "/etc/etcd.yml"], files: ["/etc/etcd.yml": sample])
        #expect(c.name == "infra1")
        #expect(c.dataDir == "/var/lib/etcd/infra1")
        #expect(c.walDir == "")
        #expect(c.snapshotCount == 5000)
        #expect(c.heartbeatIntervalMs == 50 && c.electionTimeoutMs == 500)
        #expect(c.quotaBackendBytes == 1_073_741_824)
        #expect(c.listenClientURLs.map(\.string) == ["http://127.0.0.1:12379", "http://127.0.0.1:22379"])
        #expect(c.initialClusterMembers.urlsByName["infra1"]?.map(\.string) == ["http://127.0.0.1:12380"])
        #expect(c.initialClusterToken == "tok")
        #expect(!c.strictReconfigCheck)
        #expect(c.autoCompactionRetention == .period(.seconds(3600)))
        #expect(c.grpcKeepaliveMinTime == .seconds(1))
        #expect(c.experimentalWatchProgressNotifyInterval == .seconds(5))
        #expect(c.logger.level == .warn)
        #expect(c.logger.outputs == [.stdout, .file("/tmp/etcd.log")])
        #expect(c.configFile == "/etc/etcd.yml")
        #expect(c.warnings.isEmpty)
    }

    @Test func otherFlagsAndEnvAreIgnored() throws {
        let c = try runConfig(
            ["--config-file=/c.yml", "--name", "flag"], env: ["ETCD_SNAPSHOT_COUNT": "7"],
            files: ["/c.yml": "snapshot-count: 9\n"])
        #expect(c.name == "default")
        #expect(c.snapshotCount == 9)
        #expect(c.warnings.contains { $0.contains("ignored") })
    }

    @Test func configFileFromEnvironment() throws {
        let c = try runConfig([], env: ["ETCD_CONFIG_FILE": "/c.yml"], files: ["/c.yml": "max-txn-ops: 1000\n"])
        #expect(c.maxTxnOps == 1000)
    }

    @Test func emptyFileGivesDefaults() throws {
        let c = try runConfig(["--config-file", "/e.yml"], files: ["/e.yml": ""])
        #expect(c.name == "default" && c.dataDir == "default.etcd")
    }

    @Test func listenClientWithoutAdvertiseKeepsDefaultInFile() throws {
        // etcd clears the default advertise URL only for command-line flags.
        let c = try runConfig(["--config-file", "/c.yml"], files: ["/c.yml": "listen-client-urls: http://127.0.0.1:2379\n"])
        #expect(c.advertiseClientURLs.map(\.string) == ["http://localhost:2379"])
    }

    @Test func unreadableFile() throws {
        let e = try runError(["--config-file", "/missing.yml"])
        #expect(e.message.contains("cannot read --config-file /missing.yml"))
        #expect(e.code == 1)
    }

    @Test func malformedYAML() throws {
        let e = try runError(["--config-file", "/b.yml"], files: ["/b.yml": "name: [unclosed\n"])
        #expect(e.message.contains("invalid --config-file /b.yml"))
        #expect(e.code == 2)
    }

    @Test func notAMapping() throws {
        #expect(try runError(["--config-file", "/b.yml"], files: ["/b.yml": "- a\n- b\n"]).code == 2)
    }

    @Test func wrongTypeInFile() throws {
        let e = try runError(["--config-file", "/b.yml"], files: ["/b.yml": "snapshot-count: abc\n"])
        #expect(e.message.contains("snapshot-count"))
        #expect(e.code == 2)
    }

    @Test func negativeSizeInFile() throws {
        #expect(try runError(["--config-file", "/b.yml"], files: ["/b.yml": "max-request-bytes: -5\n"]).code == 2)
        let c = try runConfig(["--config-file", "/b.yml"], files: ["/b.yml": "quota-backend-bytes: -5\n"])
        #expect(c.quotaBackendBytes == -5)
    }

    @Test func badURLInFile() throws {
        let e = try runError(["--config-file", "/b.yml"], files: ["/b.yml": "listen-peer-urls: localhost:2380\n"])
        #expect(e.message.contains("URL scheme must be http, https, unix, or unixs"))
    }

    @Test func unknownKeyIsWarned() throws {
        let c = try runConfig(["--config-file", "/c.yml"], files: ["/c.yml": "bogus-key: 1\n"])
        #expect(c.warnings == ["unknown key bogus-key in /c.yml ignored"])
    }

    @Test func tlsInFileIsRead() throws {
        let yaml = """
            listen-client-urls: https://127.0.0.1:2379
            advertise-client-urls: https://127.0.0.1:2379
            client-transport-security:
              cert-file: /c.pem
              key-file: /k.pem
              client-cert-auth: true
              trusted-ca-file: /ca.pem
              crl-file: /crl.pem
              allowed-hostname: client.example
            cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
            tls-min-version: TLS1.2
            """
        let c = try runConfig(["--config-file", "/c.yml"], files: ["/c.yml": yaml])
        #expect(c.clientSecurity.certFile == "/c.pem")
        #expect(c.clientSecurity.keyFile == "/k.pem")
        #expect(c.clientSecurity.clientCertAuth)
        #expect(c.clientSecurity.trustedCAFile == "/ca.pem")
        #expect(c.clientSecurity.crlFile == "/crl.pem")
        #expect(c.clientSecurity.allowedHostname == "client.example")
        #expect(c.tlsPolicy.cipherSuites == [0xC02F])
    }

    @Test func peerTLSInFileIsRead() throws {
        let yaml = "peer-transport-security:\n  auto-tls: true\n  allowed-cn: etcd-peer\n  skip-client-san-verification: true\n"
        let c = try runConfig(["--config-file", "/c.yml"], files: ["/c.yml": yaml])
        #expect(c.peerSecurity.autoTLS)
        #expect(c.peerSecurity.allowedCN == "etcd-peer")
        #expect(c.peerSecurity.skipClientSANVerify)
    }

    @Test func yamlBoolSpellings() throws {
        #expect(try runConfig(["--config-file", "/c.yml"], files: ["/c.yml": "force-new-cluster: yes\n"]).forceNewCluster)
    }

    @Test func validationAppliesToFile() throws {
        let e = try runError(["--config-file", "/c.yml"], files: ["/c.yml": "heartbeat-interval: 500\n"])
        #expect(e.message == "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[500ms]")
    }
}

@Suite struct LoggerConfigTests {
    @Test func fromValidCommandLine() {
        let l = loggerConfig(["--log-level", "debug", "--log-outputs", "stdout", "--log-format", "console"], environment: [:])
        #expect(l.level == .debug && l.outputs == [.stdout] && l.format == .console)
    }

    @Test func bestEffortWhenParseFails() {
        // Other flags are wrong (the FlagParser stops at the unknown one), env still counts.
        let l = loggerConfig(["--heartbeat-interval", "0"], environment: ["ETCD_LOG_LEVEL": "error"])
        #expect(l.level == .error)
        #expect(l.outputs == [.stderr])
    }

    @Test func emptyQuotedClusterStateInFileIsNew() throws {
        let c = try runConfig(["--config-file", "/c.yml"], files: ["/c.yml": "initial-cluster-state: ''\n"])
        #expect(c.initialClusterState == .new)
    }
}
