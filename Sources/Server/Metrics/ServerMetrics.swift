import Foundation

/// Everything a member records for `/metrics` between scrapes (gauges that
/// can be read from the server's state are computed at scrape time instead;
/// see `MetricsExposition`). One per `EtcdServer`, shared by reference with
/// the WAL, the store, the Raft loop, the peer links and the gRPC probes.
///
/// Why a small registry of our own rather than swift-metrics with
/// swift-prometheus: recording here is one relaxed atomic add (histograms:
/// a ≤17-step bucket scan and two adds) with no label lookup, lock or
/// allocation on the request path, and the exposition can copy etcd's
/// names, label order and number format exactly; swift-metrics' factory
/// indirection and swift-prometheus' locking would cost more on the
/// benchmarked put path and add two dependencies.
final class ServerMetrics: Sendable {
    /// etcd's WAL fsync and backend commit buckets: 1 ms × 2^k, k = 0…13.
    static let diskBounds = MetricHistogram.exponentialBounds(start: 0.001, factor: 2, count: 14)
    /// rafthttp's round-trip buckets: 0.1 ms × 2^k, k = 0…15.
    static let roundTripBounds = MetricHistogram.exponentialBounds(start: 0.0001, factor: 2, count: 16)

    let walFsync = MetricHistogram(upperBoundsSeconds: diskBounds)
    let backendCommit = MetricHistogram(upperBoundsSeconds: diskBounds)
    /// Store fsyncs (`--backend-batch-interval`, WAL release, stop); our own metric.
    let backendSyncs = MetricCounter()
    let leaderChanges = MetricCounter()
    let proposalsFailed = MetricCounter()
    let healthSuccess = MetricCounter()
    let healthFailures = MetricCounter()
    let peerRoundTrip = LabeledHistograms(upperBoundsSeconds: roundTripBounds)
    let mvccOps = MVCCOpMetrics()
    let clusterVersions = ClusterVersionGauge()
    let grpc: GRPCMetrics

    init(extensive: Bool) {
        grpc = GRPCMetrics(extensive: extensive)
    }
}

/// Histograms keyed by one label value (a peer ID); rare writers (one per
/// ping answer) take a lock to find their series.
final class LabeledHistograms: @unchecked Sendable {
    let upperBoundsSeconds: [Double]
    private let lock = NSLock()
    private var series: [String: MetricHistogram] = [:]  // guarded by `lock`

    init(upperBoundsSeconds: [Double]) { self.upperBoundsSeconds = upperBoundsSeconds }

    func histogram(_ label: String) -> MetricHistogram {
        lock.withLock {
            if let h = series[label] { return h }
            let h = MetricHistogram(upperBoundsSeconds: upperBoundsSeconds)
            series[label] = h
            return h
        }
    }

    func snapshots() -> [(String, MetricHistogram.Snapshot)] {
        lock.withLock { series.map { ($0.key, $0.value.snapshot()) } }
    }
}
