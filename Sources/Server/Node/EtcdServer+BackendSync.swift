import Config
import Foundation

/// `--backend-batch-interval`: the longest a backend commit may stay only
/// in memory. etcd's bbolt commits (and so fsyncs) every interval; LMDB
/// commits each applied batch at once without fsync (durability comes from
/// the WAL), so the interval here is how often the store is fsynced. Unset
/// (0), the store is fsynced before WAL segments are released and at stop.
extension EtcdServer {
    func startBackendSync() {
        let nanos = max(0, GoDuration.nanoseconds(options.backendBatchInterval))
        guard nanos > 0 else { return }
        Task.detached { [self] in
            while !stopping.isFired {
                try? await Task.sleep(nanoseconds: UInt64(nanos))
                if stopping.isFired { return }
                syncBackend()
            }
        }
    }

    /// fsyncs the store and counts it (`swift_etcd_backend_syncs_total`).
    func syncBackend() {
        do {
            try store.sync()
            metrics.backendSyncs.add()
        } catch {
            logger.error("failed to sync the backend", metadata: ["error": "\(error)"])
        }
    }
}
