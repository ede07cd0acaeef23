/// The server flags of etcd 3.5 (etcd 3.5.x `server/etcdmain/config.go` and
/// `help.go`), with swift-etcd's support status for each.
///
/// To start honouring a flag, flip its status to `.supported` here and read
/// it in `EtcdConfig+Resolve.swift`; the README table is printed from this.
public enum EtcdServerFlags {
    private static let v2 = SupportStatus.notYet("the v2 API")
    private static let v2proxy = SupportStatus.notYet("the v2 proxy")
    private static let discovery = SupportStatus.notYet("discovery bootstrap")
    private static let tracing = SupportStatus.notYet("distributed tracing")
    private static let bbolt = SupportStatus.defaultOnly("bbolt tuning; swift-etcd stores data in LMDB, which has no such setting")

    public static let member: [FlagSpec] = [
        FlagSpec("name", .string, default: "default", group: .member, help: "Human-readable name for this member."),
        FlagSpec("data-dir", .string, default: "", helpDefault: "${name}.etcd", group: .member, help: "Path to the data directory."),
        FlagSpec("wal-dir", .string, default: "", group: .member, help: "Path to the dedicated wal directory."),
        FlagSpec("snapshot-count", .uint, default: "100000", group: .member, help: "Number of committed transactions to trigger a snapshot to disk."),
        FlagSpec("heartbeat-interval", .uint, default: "100", group: .member, help: "Time (in milliseconds) of a heartbeat interval."),
        FlagSpec("election-timeout", .uint, default: "1000", group: .member, help: "Time (in milliseconds) for an election to timeout. See tuning documentation for details."),
        FlagSpec("initial-election-tick-advance", .bool, default: "true", group: .member, help: "Whether to fast-forward initial election ticks on boot for faster election."),
        FlagSpec("listen-peer-urls", .urlList, default: "http://localhost:2380", group: .member, help: "List of URLs to listen on for peer traffic."),
        FlagSpec("listen-client-urls", .urlList, default: "http://localhost:2379", group: .member, help: "List of URLs to listen on for client grpc traffic and http as long as --listen-client-http-urls is not specified."),
        FlagSpec("listen-client-http-urls", .urlList, default: "", group: .member, help: "List of URLs to listen on for http only client traffic. Enabling this flag removes http services from --listen-client-urls."),
        FlagSpec("max-snapshots", .uint, default: "5", group: .member, help: "Maximum number of snapshot files to retain (0 is unlimited)."),
        FlagSpec("max-wals", .uint, default: "5", group: .member, help: "Maximum number of wal files to retain (0 is unlimited)."),
        FlagSpec("quota-backend-bytes", .int, default: "0", group: .member, help: "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota)."),
        FlagSpec("backend-bbolt-freelist-type", .choice(["array", "map"]), default: "map", group: .member, support: bbolt, help: "BackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types)."),
        FlagSpec("backend-batch-interval", .duration, default: "", group: .member, help: "BackendBatchInterval is the maximum time before commit the backend transaction."),
        FlagSpec("backend-batch-limit", .int, default: "0", group: .member, help: "BackendBatchLimit is the maximum operations before commit the backend transaction."),
        FlagSpec("max-txn-ops", .uint, default: "128", group: .member, help: "Maximum number of operations permitted in a transaction."),
        FlagSpec("max-request-bytes", .size, default: "1572864", group: .member, help: "Maximum client request size in bytes the server will accept."),
        FlagSpec("max-concurrent-streams", .uint32, default: "4294967295", helpDefault: "math.MaxUint32", group: .member, help: "Maximum concurrent streams that each client can open at a time."),
        FlagSpec("enable-grpc-gateway", .bool, default: "true", group: .member, support: .supported, help: "Enable GRPC gateway."),
        FlagSpec("grpc-keepalive-min-time", .duration, default: "5s", group: .member, help: "Minimum duration interval that a client should wait before pinging server."),
        FlagSpec("grpc-keepalive-interval", .duration, default: "2h", group: .member, help: "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable)."),
        FlagSpec("grpc-keepalive-timeout", .duration, default: "20s", group: .member, help: "Additional duration of wait before closing a non-responsive connection (0 to disable)."),
        FlagSpec("socket-reuse-port", .bool, default: "false", group: .member, help: "Enable to set socket option SO_REUSEPORT on listeners allowing rebinding of a port already in use."),
        FlagSpec("socket-reuse-address", .bool, default: "false", group: .member, help: "Enable to set socket option SO_REUSEADDR on listeners allowing binding to an address in TIME_WAIT state."),
        FlagSpec("raft-read-timeout", .duration, default: "5s", group: .member, help: "Read timeout set on each rafthttp connection"),
        FlagSpec("raft-write-timeout", .duration, default: "5s", group: .member, help: "Write timeout set on each rafthttp connection"),
    ]

    public static let clustering: [FlagSpec] = [
        FlagSpec("initial-advertise-peer-urls", .urlList, default: "http://localhost:2380", group: .clustering, help: "List of this member's peer URLs to advertise to the rest of the cluster."),
        FlagSpec("initial-cluster", .string, default: "default=http://localhost:2380", group: .clustering, help: "Initial cluster configuration for bootstrapping."),
        FlagSpec("initial-cluster-state", .choice(["new", "existing"]), default: "new", group: .clustering, help: "Initial cluster state ('new' when bootstrapping a new cluster or 'existing' when adding new members to an existing cluster).\nAfter successful initialization (bootstrapping or adding), flag is ignored on restarts."),
        FlagSpec("initial-cluster-token", .string, default: "etcd-cluster", group: .clustering, help: "Initial cluster token for the etcd cluster during bootstrap.\nSpecifying this can protect you from unintended cross-cluster interaction when running multiple clusters."),
        FlagSpec("advertise-client-urls", .urlList, default: "http://localhost:2379", group: .clustering, help: "List of this member's client URLs to advertise to the public.\nThe client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster."),
        FlagSpec("discovery", .string, default: "", group: .clustering, support: discovery, help: "Discovery URL used to bootstrap the cluster."),
        FlagSpec("discovery-fallback", .choice(["exit", "proxy"]), default: "proxy", group: .clustering, support: discovery, help: "Expected behavior ('exit' or 'proxy') when discovery services fails.\n\"proxy\" supports v2 API only."),
        FlagSpec("discovery-proxy", .string, default: "", group: .clustering, support: discovery, help: "HTTP proxy to use for traffic to discovery service."),
        FlagSpec("discovery-srv", .string, default: "", group: .clustering, support: discovery, help: "DNS srv domain used to bootstrap the cluster."),
        FlagSpec("discovery-srv-name", .string, default: "", group: .clustering, support: discovery, help: "Suffix to the dns srv name queried when bootstrapping."),
        FlagSpec("strict-reconfig-check", .bool, default: "true", group: .clustering, help: "Reject reconfiguration requests that would cause quorum loss."),
        FlagSpec("pre-vote", .bool, default: "true", group: .clustering, help: "Enable to run an additional Raft election phase."),
        FlagSpec("auto-compaction-retention", .string, default: "0", group: .clustering, help: "Auto compaction retention length. 0 means disable auto compaction."),
        FlagSpec("auto-compaction-mode", .string, default: "periodic", group: .clustering, help: "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention."),
        FlagSpec("enable-v2", .bool, default: "false", group: .clustering, support: v2, help: "Accept etcd V2 client requests. Deprecated and to be decommissioned in v3.6."),
        FlagSpec("v2-deprecation", .choice(["not-yet", "write-only", "write-only-drop-data", "gone"]), default: "not-yet", group: .clustering, support: .ignored("swift-etcd has no v2 store (always 'gone')"), help: "Phase of v2store deprecation. Allows to opt-in for higher compatibility mode.\nSupported values:\n  'not-yet'                // Issues a warning if v2store have meaningful content (default in v3.5)\n  'write-only'             // Custom v2 state is not allowed (planned default in v3.6)\n  'write-only-drop-data'   // Custom v2 state will get DELETED !\n  'gone'                   // v2store is not maintained any longer. (planned default in v3.7)"),
    ]

    public static let security: [FlagSpec] = [
        FlagSpec("cert-file", .string, default: "", group: .security, help: "Path to the client server TLS cert file."),
        FlagSpec("key-file", .string, default: "", group: .security, help: "Path to the client server TLS key file."),
        FlagSpec("client-cert-auth", .bool, default: "false", group: .security, help: "Enable client cert authentication."),
        FlagSpec("client-cert-file", .string, default: "", group: .security, help: "Path to an explicit peer client TLS cert file otherwise cert file will be used when client auth is required."),
        FlagSpec("client-key-file", .string, default: "", group: .security, help: "Path to an explicit peer client TLS key file otherwise key file will be used when client auth is required."),
        FlagSpec("client-crl-file", .string, default: "", group: .security, help: "Path to the client certificate revocation list file."),
        FlagSpec("client-cert-allowed-hostname", .string, default: "", group: .security, help: "Allowed TLS hostname for client cert authentication."),
        FlagSpec("trusted-ca-file", .string, default: "", group: .security, help: "Path to the client server TLS trusted CA cert file."),
        FlagSpec("auto-tls", .bool, default: "false", group: .security, help: "Client TLS using generated certificates."),
        FlagSpec("peer-cert-file", .string, default: "", group: .security, help: "Path to the peer server TLS cert file."),
        FlagSpec("peer-key-file", .string, default: "", group: .security, help: "Path to the peer server TLS key file."),
        FlagSpec("peer-client-cert-auth", .bool, default: "false", group: .security, help: "Enable peer client cert authentication."),
        FlagSpec("peer-trusted-ca-file", .string, default: "", group: .security, help: "Path to the peer server TLS trusted CA file."),
        FlagSpec("peer-cert-allowed-cn", .string, default: "", group: .security, help: "Required CN for client certs connecting to the peer endpoint."),
        FlagSpec("peer-cert-allowed-hostname", .string, default: "", group: .security, help: "Allowed TLS hostname for inter peer authentication."),
        FlagSpec("peer-auto-tls", .bool, default: "false", group: .security, help: "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided."),
        FlagSpec("peer-client-cert-file", .string, default: "", group: .security, help: "Path to an explicit peer client TLS cert file otherwise peer cert file will be used when client auth is required."),
        FlagSpec("peer-client-key-file", .string, default: "", group: .security, help: "Path to an explicit peer client TLS key file otherwise peer key file will be used when client auth is required."),
        FlagSpec("self-signed-cert-validity", .uint, default: "1", group: .security, help: "The validity period of the client and peer certificates that are automatically generated by etcd when you specify ClientAutoTLS and PeerAutoTLS, the unit is year, and the default is 1."),
        FlagSpec("peer-crl-file", .string, default: "", group: .security, help: "Path to the peer certificate revocation list file."),
        FlagSpec("cipher-suites", .stringList, default: "", group: .security, help: "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go)."),
        FlagSpec("cors", .stringList, default: "*", group: .security, support: .notYet("CORS restrictions"), help: "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all)."),
        FlagSpec("host-whitelist", .stringList, default: "*", group: .security, support: .notYet("host whitelisting"), help: "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all)."),
        FlagSpec("tls-min-version", .choice(["TLS1.2", "TLS1.3"]), default: "TLS1.2", group: .security, help: "Minimum TLS version supported by etcd. Possible values: TLS1.2, TLS1.3."),
        FlagSpec("tls-max-version", .choice(["", "TLS1.2", "TLS1.3"]), default: "", group: .security, help: "Maximum TLS version supported by etcd. Possible values: TLS1.2, TLS1.3 (empty will be auto-populated by Go)."),
    ]

    public static let authFlags: [FlagSpec] = [
        FlagSpec("auth-token", .string, default: "simple", group: .auth, help: "Specify a v3 authentication token type and its options ('simple' or 'jwt')."),
        FlagSpec("bcrypt-cost", .uint, default: "10", group: .auth, help: "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31."),
        FlagSpec("auth-token-ttl", .uint, default: "300", group: .auth, help: "Time (in seconds) of the auth-token-ttl."),
    ]

    public static let profiling: [FlagSpec] = [
        FlagSpec("enable-pprof", .bool, default: "false", group: .profiling, support: .supported, help: "Enable runtime profiling data via HTTP server. Address is at client URL + \"/debug/pprof/\""),
        FlagSpec("metrics", .choice(["basic", "extensive"]), default: "basic", group: .profiling, help: "Set level of detail for exported metrics, specify 'extensive' to include server side grpc histogram metrics."),
        FlagSpec("listen-metrics-urls", .urlList, default: "", group: .profiling, help: "List of URLs to listen on for the /metrics and /health endpoints. For https, the client URL TLS info is used."),
    ]

    public static let logging: [FlagSpec] = [
        FlagSpec("logger", .string, default: "zap", group: .logging, help: "Currently only supports 'zap' for structured logging."),
        FlagSpec("log-outputs", .stringList, default: "default", group: .logging, help: "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets."),
        FlagSpec("log-level", .choice(LogLevel.allCases.map(\.rawValue)), default: "info", group: .logging, help: "Configures log level. Only supports debug, info, warn, error, panic, or fatal."),
        FlagSpec("log-format", .choice(["json", "console"]), default: "json", group: .logging, help: "Configures log format. Only supports json, console."),
        FlagSpec("enable-log-rotation", .bool, default: "false", group: .logging, support: .notYet("log rotation"), help: "Enable log rotation of a single log-outputs file target."),
        FlagSpec("log-rotation-config-json", .string, default: #"{"maxsize": 100, "maxage": 0, "maxbackups": 0, "localtime": false, "compress": false}"#, group: .logging, support: .notYet("log rotation"), help: "Configures log rotation if enabled with a JSON logger config. MaxSize(MB), MaxAge(days,0=no limit), MaxBackups(0=no limit), LocalTime(use computers local time), Compress(gzip)."),
    ]

    public static let tracingFlags: [FlagSpec] = [
        FlagSpec("experimental-enable-distributed-tracing", .bool, default: "false", group: .tracing, support: tracing, help: "Enable experimental distributed tracing."),
        FlagSpec("experimental-distributed-tracing-address", .string, default: "localhost:4317", group: .tracing, support: tracing, help: "Distributed tracing collector address."),
        FlagSpec("experimental-distributed-tracing-service-name", .string, default: "etcd", group: .tracing, support: tracing, help: "Distributed tracing service name, must be same across all etcd instances."),
        FlagSpec("experimental-distributed-tracing-instance-id", .string, default: "", group: .tracing, support: tracing, help: "Distributed tracing instance ID, must be unique per each etcd instance."),
        FlagSpec("experimental-distributed-tracing-sampling-rate", .int, default: "0", group: .tracing, support: tracing, help: "Number of samples to collect per million spans for distributed tracing. Disabled by default."),
    ]

    public static let proxy: [FlagSpec] = [
        FlagSpec("proxy", .choice(["off", "readonly", "on"]), default: "off", group: .v2Proxy, support: v2proxy, help: "Proxy mode setting ('off', 'readonly' or 'on')."),
        FlagSpec("proxy-failure-wait", .uint, default: "5000", group: .v2Proxy, support: v2proxy, help: "Time (in milliseconds) an endpoint will be held in a failed state."),
        FlagSpec("proxy-refresh-interval", .uint, default: "30000", group: .v2Proxy, support: v2proxy, help: "Time (in milliseconds) of the endpoints refresh interval."),
        FlagSpec("proxy-dial-timeout", .uint, default: "1000", group: .v2Proxy, support: v2proxy, help: "Time (in milliseconds) for a dial to timeout."),
        FlagSpec("proxy-write-timeout", .uint, default: "5000", group: .v2Proxy, support: v2proxy, help: "Time (in milliseconds) for a write to timeout."),
        FlagSpec("proxy-read-timeout", .uint, default: "0", group: .v2Proxy, support: v2proxy, help: "Time (in milliseconds) for a read to timeout."),
    ]

    public static let experimental: [FlagSpec] = [
        FlagSpec("experimental-initial-corrupt-check", .bool, default: "false", group: .experimental, help: "Enable to check data corruption before serving any client/peer traffic."),
        FlagSpec("experimental-corrupt-check-time", .duration, default: "0s", group: .experimental, help: "Duration of time between cluster corruption check passes."),
        FlagSpec("experimental-compact-hash-check-enabled", .bool, default: "false", group: .experimental, help: "Enable leader to periodically check followers compaction hashes."),
        FlagSpec("experimental-compact-hash-check-time", .duration, default: "1m", group: .experimental, help: "Duration of time between leader checks followers compaction hashes."),
        FlagSpec("experimental-enable-v2v3", .string, default: "", group: .experimental, support: v2, help: "Serve v2 requests through the v3 backend under a given prefix. Deprecated and to be decommissioned in v3.6."),
        FlagSpec("experimental-enable-lease-checkpoint", .bool, default: "false", group: .experimental, help: "ExperimentalEnableLeaseCheckpoint enables leader to send regular checkpoints to other members to prevent reset of remaining TTL on leader change."),
        FlagSpec("experimental-enable-lease-checkpoint-persist", .bool, default: "false", group: .experimental, help: "Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases. Always enabled in v3.6. Should be used to ensure smooth upgrade from v3.5 clusters with this feature enabled. Requires experimental-enable-lease-checkpoint to be enabled."),
        FlagSpec("experimental-compaction-batch-limit", .int, default: "1000", group: .experimental, help: "ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch."),
        FlagSpec("experimental-compaction-sleep-interval", .duration, default: "10ms", group: .experimental, help: "ExperimentalCompactionSleepInterval sets the sleep interval between each compaction batch."),
        FlagSpec("experimental-peer-skip-client-san-verification", .bool, default: "false", group: .experimental, help: "Skip verification of SAN field in client certificate for peer connections."),
        FlagSpec("experimental-watch-progress-notify-interval", .duration, default: "10m", group: .experimental, help: "Duration of periodical watch progress notification."),
        FlagSpec("experimental-downgrade-check-time", .duration, default: "5s", group: .experimental, support: .notYet("cluster downgrade"), help: "Duration of time between two downgrade status checks."),
        FlagSpec("experimental-memory-mlock", .bool, default: "false", group: .experimental, support: .notYet("locking the backend in RAM"), help: "Enable to enforce etcd pages (in particular bbolt) to stay in RAM."),
        FlagSpec("experimental-warning-apply-duration", .duration, default: "100ms", group: .experimental, help: "Warning is generated if requests take more than this duration."),
        FlagSpec("experimental-warning-unary-request-duration", .duration, default: "300ms", group: .experimental, help: "Time duration after which a warning is generated if a unary request takes more time."),
        FlagSpec("experimental-txn-mode-write-with-shared-buffer", .bool, default: "true", group: .experimental, support: bbolt, help: "Enable the write transaction to use a shared buffer in its readonly check operations."),
        FlagSpec("experimental-bootstrap-defrag-threshold-megabytes", .uint, default: "0", group: .experimental, help: "Enable the defrag during etcd server bootstrap on condition that it will free at least the provided threshold of disk space. Needs to be set to non-zero value to take effect."),
        FlagSpec("experimental-max-learners", .int, default: "1", group: .experimental, help: "Sets the maximum number of learners that can be available in the cluster membership."),
        FlagSpec("experimental-snapshot-catchup-entries", .uint, default: "5000", group: .experimental, help: "Number of entries for a slow follower to catch up after compacting the raft storage entries."),
        FlagSpec("experimental-wait-cluster-ready-timeout", .duration, default: "5s", group: .experimental, help: "Maximum duration to wait for the cluster to be ready."),
        FlagSpec("experimental-stop-grpc-service-on-defrag", .bool, default: "false", group: .experimental, help: "Enable etcd gRPC service to stop serving client requests on defragmentation."),
    ]

    public static let unsafe: [FlagSpec] = [
        FlagSpec("force-new-cluster", .bool, default: "false", group: .unsafe, help: "Force to create a new one-member cluster."),
        FlagSpec("unsafe-no-fsync", .bool, default: "false", group: .unsafe, help: "Disables fsync, unsafe, will cause data loss."),
    ]

    /// `--config-file`, `--version` and etcd's legacy names it accepts and
    /// ignores (`IgnoredFlag`: boolean, no value consumed).
    public static let hidden: [FlagSpec] = [
        FlagSpec("config-file", .string, default: "", group: .hidden, help: "Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored."),
        FlagSpec("version", .bool, default: "false", group: .hidden, help: "Print the version and exit."),
    ] + [
        "cluster-active-size", "cluster-remove-delay", "cluster-sync-interval", "config", "force",
        "max-result-buffer", "max-retry-attempts", "peer-heartbeat-interval", "peer-election-timeout",
        "retry-interval", "snapshot", "v", "vv",
    ].map { FlagSpec($0, .bool, default: "false", group: .hidden, support: .ignored("legacy etcd 0.4 flag"), help: "") }

    /// Every server flag, in `--help` order.
    public static let all: [FlagSpec] =
        member + clustering + security + authFlags + profiling + logging + tracingFlags + proxy + experimental + unsafe + hidden

    /// name → spec for `all`.
    public static let byName: [String: FlagSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
