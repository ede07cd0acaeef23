/// The server configuration swift-etcd honours, resolved from flags,
/// `ETCD_*` variables or a `--config-file`, with etcd 3.5's defaults.
///
/// Built by `parseCommandLine`, which also runs `validate()`. Field names
/// follow etcd's flags; times are `Duration` unless the unit is in the name.
public struct EtcdConfig: Sendable, Equatable {
    // MARK: Member
    public var name = "default"
    /// `--data-dir`; after resolution never empty (`"\(name).etcd"` by default).
    public var dataDir = "default.etcd"
    /// `--wal-dir`; empty means `<data-dir>/member/wal`.
    public var walDir = ""
    public var snapshotCount: UInt64 = 100_000
    public var heartbeatIntervalMs: UInt64 = 100
    public var electionTimeoutMs: UInt64 = 1000
    public var initialElectionTickAdvance = true
    public var listenPeerURLs = [EtcdConfig.url("http://localhost:2380")]
    public var listenClientURLs = [EtcdConfig.url("http://localhost:2379")]
    /// `--listen-client-http-urls`: HTTP/1.1 only (gateway, health, metrics);
    /// when set, `listenClientURLs` serve gRPC only.
    public var listenClientHTTPURLs: [EtcdURL] = []
    public var maxSnapshots: UInt64 = 5
    public var maxWALs: UInt64 = 5
    /// 0 means etcd's default quota (2 GiB).
    public var quotaBackendBytes: Int64 = 0
    /// Zero means the backend's default.
    public var backendBatchInterval: Duration = .zero
    public var backendBatchLimit: Int64 = 0
    public var maxTxnOps: UInt64 = 128
    /// Largest client request accepted; the gRPC receive limit is this + 512 KiB.
    public var maxRequestBytes: UInt64 = 1_572_864
    public var maxConcurrentStreams: UInt32 = .max
    public var grpcKeepaliveMinTime: Duration = .seconds(5)
    /// Zero disables server-to-client pings.
    public var grpcKeepaliveInterval: Duration = .seconds(2 * 3600)
    public var grpcKeepaliveTimeout: Duration = .seconds(20)
    public var socketReusePort = false
    public var socketReuseAddress = false
    public var raftReadTimeout: Duration = .seconds(5)
    public var raftWriteTimeout: Duration = .seconds(5)

    // MARK: Clustering
    public var initialAdvertisePeerURLs = [EtcdConfig.url("http://localhost:2380")]
    /// `--initial-cluster` after etcd's name substitution (a non-default
    /// `--name` with the default cluster becomes `name=<advertise peer URLs>`).
    public var initialCluster = "default=http://localhost:2380"
    public var initialClusterState: ClusterState = .new
    public var initialClusterToken = "etcd-cluster"
    /// Empty when `--listen-client-urls` was given without this (etcd then
    /// refuses to start; see `validate()`).
    public var advertiseClientURLs = [EtcdConfig.url("http://localhost:2379")]
    public var strictReconfigCheck = true
    public var preVote = true
    public var autoCompactionMode: AutoCompactionMode = .periodic
    /// Raw `--auto-compaction-retention`: hours or a Go duration in periodic
    /// mode, a revision count in revision mode. See `autoCompactionRetention`.
    public var autoCompactionRetentionText = "0"
    public var enableV2 = false

    // MARK: Auth
    /// `--auth-token`: "simple" or "jwt,sign-method=…,priv-key=…,pub-key=…,ttl=…" (parsed by the server).
    public var authToken = "simple"
    /// `--bcrypt-cost` (an out-of-range cost falls back to 10, as etcd).
    public var bcryptCost: UInt64 = 10
    /// `--auth-token-ttl` in seconds (simple tokens).
    public var authTokenTTLSeconds: UInt64 = 300

    // MARK: Security
    /// `--cert-file`, `--key-file`, `--trusted-ca-file`, `--client-cert-auth`, … (client side).
    public var clientSecurity = TransportSecurity()
    /// `--peer-cert-file`, `--peer-key-file`, … (peer side).
    public var peerSecurity = TransportSecurity()
    /// `--tls-min-version`, `--tls-max-version`, `--cipher-suites` (names
    /// checked, as IDs), `--self-signed-cert-validity`.
    public var tlsPolicy = TLSPolicy()
    /// `--cipher-suites` as given.
    public var cipherSuiteNames: [String] = []

    // MARK: Monitoring
    public var metrics = "basic"
    public var listenMetricsURLs: [EtcdURL] = []
    public var enablePprof = false
    public var enableGrpcGateway = true

    // MARK: Logging
    public var logger = LoggerConfig()

    // MARK: Experimental
    public var experimentalInitialCorruptCheck = false
    public var experimentalCorruptCheckTime: Duration = .zero
    public var experimentalCompactHashCheckEnabled = false
    public var experimentalCompactHashCheckTime: Duration = .seconds(60)
    public var experimentalEnableLeaseCheckpoint = false
    public var experimentalEnableLeaseCheckpointPersist = false
    public var experimentalCompactionBatchLimit: Int64 = 1000
    public var experimentalCompactionSleepInterval: Duration = .milliseconds(10)
    public var experimentalWatchProgressNotifyInterval: Duration = .seconds(600)
    public var experimentalWarningApplyDuration: Duration = .milliseconds(100)
    public var experimentalWarningUnaryRequestDuration: Duration = .milliseconds(300)
    public var experimentalBootstrapDefragThresholdMegabytes: UInt64 = 0
    public var experimentalMaxLearners: Int64 = 1
    public var experimentalSnapshotCatchUpEntries: UInt64 = 5000
    public var experimentalWaitClusterReadyTimeout: Duration = .seconds(5)
    public var experimentalStopGRPCServiceOnDefrag = false

    // MARK: Unsafe
    public var forceNewCluster = false
    public var unsafeNoFsync = false

    // MARK: Provenance
    /// The `--config-file` used, if any (flags and env were then ignored).
    public var configFile: String?
    /// Names of flags set explicitly (command line, env or config file).
    public var explicitlySet: Set<String> = []
    /// Messages for the operator that do not stop start-up (shadowed env
    /// variables, ignored flags, unknown config keys). Log them at warn.
    public var warnings: [String] = []

    public init() {}

    public enum ClusterState: String, Sendable, Equatable { case new, existing }
    public enum AutoCompactionMode: String, Sendable, Equatable { case periodic, revision }

    /// `--initial-cluster` parsed into members (validated by `validate()`).
    public var initialClusterMembers: InitialCluster {
        (try? InitialCluster.parse(initialCluster)) ?? InitialCluster(members: [])
    }

    /// gRPC receive limit: etcd allows `maxRequestBytes` + 512 KiB of framing
    /// (`grpcOverheadBytes`) before its own "request is too large" check.
    public var grpcMaxReceiveBytes: UInt64 {
        let (sum, overflow) = maxRequestBytes.addingReportingOverflow(512 * 1024)
        return overflow ? .max : sum
    }

    /// The backend quota in force: `quotaBackendBytes`, or etcd's 2 GiB
    /// default when it is 0; negative means no quota at all (as etcd).
    public var effectiveQuotaBackendBytes: Int64 {
        quotaBackendBytes == 0 ? 2 * 1024 * 1024 * 1024 : quotaBackendBytes
    }

    /// The WAL directory in force (`<data-dir>/member/wal` unless `--wal-dir`).
    public var effectiveWALDir: String { walDir.isEmpty ? dataDir + "/member/wal" : walDir }

    /// Raft ticks per election timeout (etcd's `ElectionTicks`).
    public var electionTicks: Int { Int(electionTimeoutMs / max(heartbeatIntervalMs, 1)) }

    /// The retention as etcd reads it: in periodic mode a bare number is
    /// hours; in revision mode it is a revision count.
    public var autoCompactionRetention: AutoCompactionRetention {
        AutoCompactionRetention.parse(autoCompactionRetentionText, mode: autoCompactionMode)
            ?? .disabled
    }

    static func url(_ s: String) -> EtcdURL {
        do { return try EtcdURL.parse(s) } catch { preconditionFailure("bad built-in URL \(s)") }
    }
}

/// `--auto-compaction-retention` interpreted by mode.
public enum AutoCompactionRetention: Sendable, Equatable {
    case disabled
    case period(Duration)
    case revisions(Int64)

    static func parse(_ text: String, mode: EtcdConfig.AutoCompactionMode) -> AutoCompactionRetention? {
        switch mode {
        case .revision:
            guard let n = parseGoSigned(text), n >= 0 else { return nil }
            return n == 0 ? .disabled : .revisions(n)
        case .periodic:
            // etcd: a plain integer is hours, otherwise a Go duration.
            if let hours = parseGoSigned(text) {
                guard hours >= 0 else { return nil }
                // Go wraps `time.Duration(h) * time.Hour`; ours saturates rather than trap.
                let (seconds, overflow) = hours.multipliedReportingOverflow(by: 3600)
                return hours == 0 ? .disabled : .period(.seconds(overflow ? Int64.max : seconds))
            }
            guard let d = try? GoDuration.parse(text), d >= .zero else { return nil }
            return d == .zero ? .disabled : .period(d)
        }
    }
}
