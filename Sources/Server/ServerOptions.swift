import Config

/// What the server needs from the command line, already validated (the
/// `Config` module parses etcd's flags into it). Units are in the names.
public struct ServerOptions: Sendable {
    public struct Listener: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// An `https://` URL: TLS with the side's `TransportSecurity`.
        public var secure: Bool
        public init(host: String, port: Int, secure: Bool = false) {
            self.host = host
            self.port = port
            self.secure = secure
        }
    }

    public var name = "default"
    public var dataDir = "default.etcd"
    /// `--wal-dir`: the WAL on its own disk; empty means `<data-dir>/member/wal`.
    public var walDir = ""
    /// `--force-new-cluster`: restart as a one-member cluster keeping the data.
    public var forceNewCluster = false
    /// `--unsafe-no-fsync`: skip every fsync (WAL and store). Loses data on a crash.
    public var unsafeNoFsync = false
    /// `--initial-election-tick-advance`: fast-forward election ticks at start.
    public var initialElectionTickAdvance = true
    /// `--socket-reuse-port`: SO_REUSEPORT on the client, peer and metrics listeners.
    public var socketReusePort = false
    /// `--raft-read-timeout`: a peer connection that received nothing this
    /// long is closed (peers ping at least every third of it).
    public var raftReadTimeout: Duration = .seconds(5)
    /// `--raft-write-timeout`: a peer connection whose writes are stuck this long is closed.
    public var raftWriteTimeout: Duration = .seconds(5)
    /// `--backend-batch-interval`: fsync the store at least this often (0: only
    /// before WAL segments are released and at stop).
    public var backendBatchInterval: Duration = .zero
    /// `--backend-batch-limit`: most requests applied in one store commit (0: no limit).
    public var backendBatchLimit = 0
    /// `--experimental-max-learners`.
    public var maxLearners = 1
    /// `--experimental-bootstrap-defrag-threshold-megabytes` in bytes: defragment at
    /// start when at least this much would be freed (0: never).
    public var bootstrapDefragThresholdBytes: Int64 = 0
    /// `--experimental-stop-grpc-service-on-defrag`: the gRPC health service
    /// answers NOT_SERVING while a defragmentation runs.
    public var stopGRPCServiceOnDefrag = false
    /// `--experimental-enable-lease-checkpoint-persist`: remaining TTLs from
    /// checkpoints survive a restart (otherwise leases restart with their full TTL).
    public var leaseCheckpointPersist = false
    /// `--experimental-compact-hash-check-enabled` / `-time`: the leader
    /// compares the followers' hashes at the latest compaction revision.
    public var compactHashCheckEnabled = false
    public var compactHashCheckIntervalMs = 60_000
    public var listenClient: [Listener] = [Listener(host: "127.0.0.1", port: 2379)]
    /// `--listen-client-http-urls`: HTTP/1.1 only; when set, `listenClient` serves gRPC only.
    public var listenClientHTTP: [Listener] = []
    public var advertiseClientURLs = ["http://localhost:2379"]
    /// Where peers connect (`--listen-peer-urls`); bound even by a single member, so it can grow.
    public var listenPeer: [Listener] = [Listener(host: "127.0.0.1", port: 2380)]
    public var initialAdvertisePeerURLs = ["http://localhost:2380"]
    /// Member name → its peer URLs, as `--initial-cluster` lists them.
    public var initialCluster: [(name: String, peerURLs: [String])] = [("default", ["http://localhost:2380"])]
    public var initialClusterToken = "etcd-cluster"
    public var initialClusterStateNew = true
    /// `--strict-reconfig-check`: refuse membership changes that would lose quorum (`ReconfigCheck`).
    public var strictReconfigCheck = true
    /// `--pre-vote`: Raft's pre-election phase (thesis 9.6).
    public var preVote = true
    public var heartbeatIntervalMs = 100
    public var electionTimeoutMs = 1000
    public var snapshotCount: UInt64 = 100_000
    /// Entries the Raft log keeps below a snapshot so a follower slightly
    /// behind catches up from the log, not with a whole store copy
    /// (`--experimental-snapshot-catchup-entries`).
    public var snapshotCatchUpEntries: UInt64 = 5_000
    public var maxRequestBytes = 1536 * 1024
    public var maxTxnOps = 128
    public var maxConcurrentStreams: UInt32 = UInt32.max
    public var grpcKeepaliveMinTimeMs = 5_000
    public var grpcKeepaliveIntervalMs = 2 * 60 * 60 * 1000
    public var grpcKeepaliveTimeoutMs = 20_000
    /// Negative: no backend quota (etcd's --quota-backend-bytes < 0).
    public var quotaBackendBytes: Int64 = 2 << 30
    /// --auto-compaction-mode/--auto-compaction-retention, parsed (Config).
    public var autoCompactionRetention: AutoCompactionRetention = .disabled
    /// --auto-compaction-mode as given (the start-up log names it even when
    /// compaction is off).
    public var autoCompactionMode: EtcdConfig.AutoCompactionMode = .periodic
    /// Keys per background compaction txn and the pause between two
    /// (`--experimental-compaction-batch-limit`, `--experimental-compaction-sleep-interval`).
    public var compactionBatchLimit = 1000
    public var compactionSleep: Duration = .milliseconds(10)
    /// Applies (and local reads) slower than this are warned about
    /// (`--experimental-warning-apply-duration`).
    public var warningApplyDuration: Duration = .milliseconds(100)
    /// Unary calls slower than this are logged as "request stats"
    /// (`--experimental-warning-unary-request-duration`).
    public var warningUnaryRequestDuration: Duration = .milliseconds(300)
    public var maxWALs = 5
    public var maxSnapshots = 5
    /// Period of progress notifications to watchers that asked for them
    /// (`--experimental-watch-progress-notify-interval`).
    public var watchProgressNotifyIntervalMs = 10 * 60 * 1000
    /// Whether the leader checkpoints remaining lease TTLs through Raft
    /// (`--experimental-enable-lease-checkpoint`; on by default here).
    public var leaseCheckpointEnabled = true
    /// How often the leader checkpoints (etcd: 5 minutes).
    public var leaseCheckpointIntervalMs = 5 * 60 * 1000
    public var eventLoopThreads = System.coreCount
    /// `--metrics extensive`: adds the per-method gRPC handling-time histograms.
    public var metricsExtensive = false
    /// `--listen-metrics-urls` (http only): /metrics and the health checks on other ports.
    public var listenMetrics: [Listener] = []
    /// `--experimental-initial-corrupt-check`: compare HashKV with the peers before serving.
    public var initialCorruptCheck = false
    /// `--experimental-corrupt-check-time`; 0 turns the leader's periodic check off.
    public var corruptCheckIntervalMs = 0
    /// Serve `/debug/pprof/` on the client port (`--enable-pprof`).
    public var enablePprof = false
    /// Serve etcd's JSON gateway on `/v3/` (`--enable-grpc-gateway`, default on).
    public var enableGRPCGateway = true
    /// `--auth-token`: "simple" or etcd's "jwt,…" options (`TokenOptions`).
    public var authToken = "simple"
    /// `--bcrypt-cost`; out of 4...31 it falls back to 10, as etcd.
    public var bcryptCost = 10
    /// `--auth-token-ttl`: how long a simple token lives after its last use.
    public var authTokenTTLSeconds = 300
    /// TLS for `https://` client, client HTTP and metrics listeners (Server/TLS).
    public var clientSecurity = TransportSecurity()
    /// TLS for `https://` peer listeners and for dialing `https://` peer URLs.
    public var peerSecurity = TransportSecurity()
    /// Versions, cipher suites and generated-certificate validity for both sides.
    public var tlsPolicy = TLSPolicy()
    /// A TLS handshake not finished this long after the connection was
    /// accepted closes it (slowloris-style half-open handshakes).
    public var tlsHandshakeTimeoutMs = 10_000

    public init() {}
}

import NIOCore
