import Foundation

/// The cluster versions this process has seen replaced, for
/// `etcd_cluster_version`: etcd sets the old version's series to 0 and the
/// new one's to 1 when the version changes, so a scrape after "3.0" → "3.5"
/// shows both. The current version itself is read from the store at scrape
/// time (none before it is decided: etcd then exports no series at all).
final class ClusterVersionGauge: @unchecked Sendable {
    private let lock = NSLock()
    private var replaced: Set<String> = []  // major.minor labels; guarded by `lock`

    /// `previous` (major.minor) was replaced by another version.
    func retire(_ previous: String) {
        lock.withLock { _ = replaced.insert(previous) }
    }

    /// The series to export: every replaced version at 0, `current` at 1.
    func series(current: String?) -> [(String, Double)] {
        guard let current else { return [] }
        let old = lock.withLock { replaced }
        return old.filter { $0 != current }.sorted().map { ($0, 0) } + [(current, 1)]
    }
}
