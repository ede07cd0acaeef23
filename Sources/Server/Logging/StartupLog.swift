import Config
import Logging
import NIOCore

/// etcd's first server line, "starting an etcd server", with the settings
/// an operator checks first (etcd logs the whole embed.Config; these are
/// the ones swift-etcd has), typed as zap types them.
enum StartupLog {
    static func starting(_ o: ServerOptions, memberInitialized: Bool, logger: Logger) {
        func urls(_ listeners: [ServerOptions.Listener]) -> Logger.MetadataValue {
            .strings(listeners.map { "http://\($0.host):\($0.port)" })
        }
        let cluster = o.initialCluster.flatMap { m in m.peerURLs.map { "\(m.name)=\($0)" } }.joined(separator: ",")
        logger.info("starting an etcd server", metadata: [
            "etcd-version": .string(SwiftEtcdVersion.etcdCompatible),
            "swift-etcd-version": .string(SwiftEtcdVersion.swiftEtcd),
            "git-sha": .string(SwiftEtcdVersion.gitCommit),
            // etcd's field names for the OS and CPU architecture; no
            // "go-version" (the compiler is Swift's: "swift-version").
            "swift-version": .string(SwiftEtcdVersion.swiftCompiler),
            "go-os": .string(SwiftEtcdVersion.os),
            "go-arch": .string(SwiftEtcdVersion.arch),
            // GOMAXPROCS's counterpart: the event-loop threads running requests.
            "max-cpu-set": .int(o.eventLoopThreads),
            "max-cpu-available": .int(System.coreCount),
            "member-initialized": .bool(memberInitialized),
            "name": .string(o.name),
            "data-dir": .string(o.dataDir),
            "wal-dir": .string(o.walDir),
            "wal-dir-dedicated": .string(o.walDir),
            "member-dir": .string(o.dataDir + "/member"),
            "force-new-cluster": .bool(o.forceNewCluster),
            "heartbeat-interval": .duration(.milliseconds(o.heartbeatIntervalMs)),
            "election-timeout": .duration(.milliseconds(o.electionTimeoutMs)),
            "initial-election-tick-advance": .bool(o.initialElectionTickAdvance),
            "snapshot-count": .uint(o.snapshotCount),
            "snapshot-catchup-entries": .uint(o.snapshotCatchUpEntries),
            "initial-advertise-peer-urls": .strings(o.initialAdvertisePeerURLs),
            "listen-peer-urls": urls(o.listenPeer),
            "advertise-client-urls": .strings(o.advertiseClientURLs),
            "listen-client-urls": urls(o.listenClient),
            "listen-metrics-urls": urls(o.listenMetrics),
            "initial-cluster": .string(cluster),
            "initial-cluster-state": .string(o.initialClusterStateNew ? "new" : "existing"),
            "initial-cluster-token": .string(o.initialClusterToken),
            "quota-size-bytes": .int(o.quotaBackendBytes),
            "pre-vote": .bool(o.preVote),
            "initial-corrupt-check": .bool(o.initialCorruptCheck),
            "corrupt-check-time-interval": .duration(.milliseconds(o.corruptCheckIntervalMs)),
            // --cors and --host-whitelist refuse any value but their default:
            // every origin and host is allowed, as etcd's "*".
            "cors": .strings(["*"]),
            "host-whitelist": .strings(["*"]),
            "auto-compaction-mode": .string(o.autoCompactionMode.rawValue),
            "auto-compaction-retention": .duration(autoCompactionRetention(o.autoCompactionRetention)),
            "auto-compaction-interval": .string(GoDuration.format(autoCompactionRetention(o.autoCompactionRetention))),
            // Discovery bootstrap refuses to start (not implemented): never set.
            "discovery-url": .string(""),
            "discovery-proxy": .string(""),
            "unsafe-no-fsync": .bool(o.unsafeNoFsync),
        ])
    }

    /// etcd's "now serving peer/client/metrics", logged once the peer
    /// listener serves and before the client and metrics listeners start.
    static func serving(_ o: ServerOptions, memberID: UInt64, logger: Logger) {
        func urls(_ listeners: [ServerOptions.Listener]) -> Logger.MetadataValue {
            .strings(listeners.map { "\($0.secure ? "https" : "http")://\($0.host):\($0.port)" })
        }
        logger.info("now serving peer/client/metrics", metadata: [
            "local-member-id": .id(memberID),
            "initial-advertise-peer-urls": .strings(o.initialAdvertisePeerURLs),
            "listen-peer-urls": urls(o.listenPeer),
            "advertise-client-urls": .strings(o.advertiseClientURLs),
            "listen-client-urls": urls(o.listenClient),
            "listen-metrics-urls": urls(o.listenMetrics),
        ])
    }

    /// etcd keeps the retention as a time.Duration in both modes: a
    /// revision count n is logged as n nanoseconds, as etcd logs it.
    static func autoCompactionRetention(_ r: AutoCompactionRetention) -> Duration {
        switch r {
        case .disabled: return .zero
        case .period(let d): return d
        case .revisions(let n): return .nanoseconds(n)
        }
    }
}
