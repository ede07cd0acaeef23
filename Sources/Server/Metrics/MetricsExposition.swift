import Config
import Foundation

extension ServerMetrics {
    /// Everything `/metrics` reports for `server`, with etcd's names, help
    /// texts and types (etcdserver/metrics.go, wal/metrics.go,
    /// mvcc/backend/metrics.go, rafthttp/metrics.go, go-grpc-prometheus).
    func render(_ server: EtcdServer) -> String {
        var m = MetricsText()
        let status = server.loop.status
        m.gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", status.leader != 0 ? 1 : 0)
        m.gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", status.isLeader ? 1 : 0)
        m.gauge("etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.",
                status.learners.contains(server.memberID) ? 1 : 0)
        m.counter("etcd_server_leader_changes_seen_total", "The number of leader changes seen.", Double(leaderChanges.count))
        // etcd exports these two as gauges despite the _total suffix.
        m.gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", Double(status.commitIndex))
        m.gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", Double(status.appliedIndex))
        m.gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
                Double(server.applyWaits.count))
        m.counter("etcd_server_proposals_failed_total", "The total number of failed proposals seen.", Double(proposalsFailed.count))
        m.counter("etcd_server_health_success", "The total number of successful health checks", Double(healthSuccess.count))
        m.counter("etcd_server_health_failures", "The total number of failed health checks", Double(healthFailures.count))
        m.gauge("etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", 1,
                labels: [("server_id", String(server.memberID, radix: 16))])
        m.gauge("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.", 1,
                labels: [("server_version", SwiftEtcdVersion.etcdCompatible)])
        // No series before the leader decided the version (etcd's gauge vector is empty then).
        let versions = clusterVersions.series(current: ClusterVersion.load(from: server.store).map(ClusterVersion.majorMinor))
        if !versions.isEmpty {
            m.family("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version",
                     .gauge, versions.map { ([("cluster_version", $0.0)], $0.1) })
        }
        m.gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", Double(server.quota.bytes))
        let size = Double(server.store.dbSizeBytes), inUse = Double(server.store.dbSizeInUseBytes)
        m.gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", size)
        m.gauge("etcd_debugging_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", size)
        m.gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", inUse)
        m.gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", Double(server.store.currentRevision))
        m.gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.",
                Double(max(server.store.compactRevision, 0)))
        m.gauge("etcd_debugging_mvcc_keys_total", "Total number of keys.", Double(server.store.liveKeyCount))
        m.counter("etcd_mvcc_range_total", "Total number of ranges seen by this member.", Double(mvccOps.ranges.count))
        m.counter("etcd_mvcc_put_total", "Total number of puts seen by this member.", Double(mvccOps.puts.count))
        m.counter("etcd_mvcc_delete_total", "Total number of deletes seen by this member.", Double(mvccOps.deletes.count))
        m.counter("etcd_mvcc_txn_total", "Total number of txns seen by this member.", Double(mvccOps.txns.count))
        m.histogram("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.",
                    bounds: Self.diskBounds, [([], walFsync.snapshot())])
        m.histogram("etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend.",
                    bounds: Self.diskBounds, [([], backendCommit.snapshot())])
        m.counter("swift_etcd_backend_syncs_total", "The total number of backend fsyncs (--backend-batch-interval, WAL release, stop).",
                  Double(backendSyncs.count))
        m.histogram("etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers",
                    bounds: Self.roundTripBounds, peerRoundTrip.snapshots().map { ([("To", $0.0)], $0.1) })
        grpc.append(to: &m)
        ProcessMetrics.append(to: &m)
        return m.text
    }
}
