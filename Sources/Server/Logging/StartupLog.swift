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
            "unsafe-no-fsync": .bool(o.unsafeNoFsync),
        ])
    }
}
