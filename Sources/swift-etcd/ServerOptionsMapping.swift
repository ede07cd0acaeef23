import Config
import Logging
import Server

/// EtcdConfig (flags as etcd spells them) → ServerOptions (what the server uses).
enum ServerOptionsMapping {
    static func options(from config: EtcdConfig) throws -> ServerOptions {
        var o = ServerOptions()
        o.name = config.name
        o.dataDir = config.dataDir
        o.listenClient = try listeners(config.listenClientURLs, kind: "client")
        o.listenClientHTTP = try listeners(config.listenClientHTTPURLs, kind: "client HTTP")
        o.advertiseClientURLs = config.advertiseClientURLs.map(\.string)
        o.listenPeer = try listeners(config.listenPeerURLs, kind: "peer")
        o.initialAdvertisePeerURLs = config.initialAdvertisePeerURLs.map(\.string)
        o.initialCluster = config.initialClusterMembers.members.map { ($0.name, $0.peerURLs.map(\.string)) }
        o.initialClusterToken = config.initialClusterToken
        o.initialClusterStateNew = config.initialClusterState == .new
        o.strictReconfigCheck = config.strictReconfigCheck
        o.heartbeatIntervalMs = Int(clamping: config.heartbeatIntervalMs)
        o.electionTimeoutMs = Int(clamping: config.electionTimeoutMs)
        o.snapshotCount = config.snapshotCount
        o.snapshotCatchUpEntries = config.experimentalSnapshotCatchUpEntries
        // A gRPC message length is 32 bits: a larger limit is no limit, and
        // the server's sums on it (+ 512 KiB receive slack, ×2 for JSON) stay in range.
        o.maxRequestBytes = Int(min(config.maxRequestBytes, UInt64(UInt32.max)))
        o.maxTxnOps = Int(clamping: config.maxTxnOps)
        o.maxConcurrentStreams = config.maxConcurrentStreams
        o.grpcKeepaliveMinTimeMs = milliseconds(config.grpcKeepaliveMinTime)
        o.grpcKeepaliveIntervalMs = milliseconds(config.grpcKeepaliveInterval)
        o.grpcKeepaliveTimeoutMs = milliseconds(config.grpcKeepaliveTimeout)
        o.maxWALs = Int(clamping: config.maxWALs)
        o.maxSnapshots = Int(clamping: config.maxSnapshots)
        o.quotaBackendBytes = Int64(clamping: config.effectiveQuotaBackendBytes)
        o.autoCompactionRetention = config.autoCompactionRetention
        o.watchProgressNotifyIntervalMs = milliseconds(config.experimentalWatchProgressNotifyInterval)
        o.metricsExtensive = config.metrics == "extensive"
        o.listenMetrics = try listeners(config.listenMetricsURLs, kind: "metrics")
        o.clientSecurity = config.clientSecurity
        o.peerSecurity = config.peerSecurity
        o.tlsPolicy = config.tlsPolicy
        o.initialCorruptCheck = config.experimentalInitialCorruptCheck
        o.corruptCheckIntervalMs = milliseconds(config.experimentalCorruptCheckTime)
        o.enablePprof = config.enablePprof
        o.enableGRPCGateway = config.enableGrpcGateway
        o.authToken = config.authToken
        o.bcryptCost = Int(clamping: config.bcryptCost)
        o.authTokenTTLSeconds = Int(clamping: config.authTokenTTLSeconds)
        // Lease checkpointing is on by default here; an explicit flag decides.
        if config.explicitlySet.contains("experimental-enable-lease-checkpoint") {
            o.leaseCheckpointEnabled = config.experimentalEnableLeaseCheckpoint
        }
        return o
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
    private static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

struct MappingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--log-level` names → swift-log levels.
enum LogLevelMapping {
    static func level(_ level: LogLevel) -> Logger.Level {
        switch level.rawValue {
        case "debug": return .debug
        case "warn": return .warning
        case "error": return .error
        case "panic", "fatal": return .critical
        default: return .info
        }
    }
}
