import Config
import Logging

/// EtcdConfig (flags as etcd spells them) → ServerOptions (what the server
/// uses). Every flag the Config module marks supported is read here.
extension ServerOptions {
    public init(config: EtcdConfig) throws {
        self.init()
        var o = self
        defer { self = o }
        o.name = config.name
        o.dataDir = config.dataDir
        o.walDir = config.walDir
        o.forceNewCluster = config.forceNewCluster
        o.unsafeNoFsync = config.unsafeNoFsync
        o.initialElectionTickAdvance = config.initialElectionTickAdvance
        o.socketReusePort = config.socketReusePort
        o.raftReadTimeout = config.raftReadTimeout
        o.raftWriteTimeout = config.raftWriteTimeout
        o.backendBatchLimit = Int(clamping: max(0, config.backendBatchLimit))
        o.backendBatchInterval = max(.zero, config.backendBatchInterval)
        o.maxLearners = Int(clamping: config.experimentalMaxLearners)
        o.bootstrapDefragThresholdBytes = Int64(clamping: config.experimentalBootstrapDefragThresholdMegabytes.multipliedReportingOverflow(by: 1 << 20).overflow
            ? UInt64.max : config.experimentalBootstrapDefragThresholdMegabytes << 20)
        o.stopGRPCServiceOnDefrag = config.experimentalStopGRPCServiceOnDefrag
        o.leaseCheckpointPersist = config.experimentalEnableLeaseCheckpointPersist
        o.compactHashCheckEnabled = config.experimentalCompactHashCheckEnabled
        o.compactHashCheckIntervalMs = Self.milliseconds(config.experimentalCompactHashCheckTime)
        o.listenClient = try Self.listeners(config.listenClientURLs, kind: "client")
        o.listenClientHTTP = try Self.listeners(config.listenClientHTTPURLs, kind: "client HTTP")
        o.advertiseClientURLs = config.advertiseClientURLs.map(\.string)
        o.listenPeer = try Self.listeners(config.listenPeerURLs, kind: "peer")
        o.initialAdvertisePeerURLs = config.initialAdvertisePeerURLs.map(\.string)
        o.initialCluster = config.initialClusterMembers.members.map { ($0.name, $0.peerURLs.map(\.string)) }
        o.initialClusterToken = config.initialClusterToken
        o.initialClusterStateNew = config.initialClusterState == .new
        o.strictReconfigCheck = config.strictReconfigCheck
        o.preVote = config.preVote
        o.heartbeatIntervalMs = Int(clamping: config.heartbeatIntervalMs)
        o.electionTimeoutMs = Int(clamping: config.electionTimeoutMs)
        o.snapshotCount = config.snapshotCount
        o.snapshotCatchUpEntries = config.experimentalSnapshotCatchUpEntries
        // A gRPC message length is 32 bits: a larger limit is no limit, and
        // the server's sums on it (+ 512 KiB receive slack, ×2 for JSON) stay in range.
        o.maxRequestBytes = Int(min(config.maxRequestBytes, UInt64(UInt32.max)))
        o.maxTxnOps = Int(clamping: config.maxTxnOps)
        o.maxConcurrentStreams = config.maxConcurrentStreams
        o.grpcKeepaliveMinTimeMs = Self.milliseconds(config.grpcKeepaliveMinTime)
        o.grpcKeepaliveIntervalMs = Self.milliseconds(config.grpcKeepaliveInterval)
        o.grpcKeepaliveTimeoutMs = Self.milliseconds(config.grpcKeepaliveTimeout)
        // etcd: 0 means its default of 1000.
        let batchLimit = config.experimentalCompactionBatchLimit
        o.compactionBatchLimit = batchLimit == 0 ? 1000 : Int(clamping: max(1, batchLimit))
        o.compactionSleep = config.experimentalCompactionSleepInterval
        o.warningApplyDuration = config.experimentalWarningApplyDuration
        o.warningUnaryRequestDuration = config.experimentalWarningUnaryRequestDuration
        o.maxWALs = Int(clamping: config.maxWALs)
        o.maxSnapshots = Int(clamping: config.maxSnapshots)
        o.quotaBackendBytes = config.effectiveQuotaBackendBytes
        o.autoCompactionRetention = config.autoCompactionRetention
        o.autoCompactionMode = config.autoCompactionMode
        o.watchProgressNotifyIntervalMs = Self.milliseconds(config.experimentalWatchProgressNotifyInterval)
        o.metricsExtensive = config.metrics == "extensive"
        o.listenMetrics = try Self.listeners(config.listenMetricsURLs, kind: "metrics")
        o.clientSecurity = config.clientSecurity
        o.peerSecurity = config.peerSecurity
        o.tlsPolicy = config.tlsPolicy
        o.initialCorruptCheck = config.experimentalInitialCorruptCheck
        o.corruptCheckIntervalMs = Self.milliseconds(config.experimentalCorruptCheckTime)
        o.enablePprof = config.enablePprof
        o.enableGRPCGateway = config.enableGrpcGateway
        o.authToken = config.authToken
        o.bcryptCost = Int(clamping: config.bcryptCost)
        o.authTokenTTLSeconds = Int(clamping: config.authTokenTTLSeconds)
        // Lease checkpointing is on by default here; an explicit flag decides.
        if config.explicitlySet.contains("experimental-enable-lease-checkpoint") {
            o.leaseCheckpointEnabled = config.experimentalEnableLeaseCheckpoint
        }
    }

    /// TCP listeners; `https` ones speak TLS.
    private static func listeners(_ urls: [EtcdURL], kind: String) throws -> [ServerOptions.Listener] {
        try urls.map { url in
            guard let port = url.portNumber, !url.isUnix else { throw MappingError("unsupported \(kind) URL \(url)") }
            return ServerOptions.Listener(host: url.host, port: port, secure: url.isSecure)
        }
    }

    /// Flag values are unsigned 64-bit as etcd's; the server's `Int`s clamp
    /// (`--max-txn-ops=18446744073709551615` is "no limit", not a trap).
    static func milliseconds(_ d: Duration) -> Int {
        Int(clamping: GoDuration.nanoseconds(d) / 1_000_000)  // saturating, as flag values can be huge
    }
}

public struct MappingError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// `--log-level` names → swift-log levels. zap's dpanic, panic and fatal
/// all keep only the lines swift-etcd logs before it exits (`critical`).
public enum LogLevelMapping {
    public static func level(_ level: LogLevel) -> Logger.Level {
        switch level {
        case .debug: return .debug
        case .info: return .info
        case .warn: return .warning
        case .error: return .error
        case .dpanic, .panic, .fatal: return .critical
        }
    }
}
