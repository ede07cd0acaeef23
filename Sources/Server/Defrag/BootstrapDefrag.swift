import Foundation
import Logging
import MVCC

/// `--experimental-bootstrap-defrag-threshold-megabytes` (etcd's
/// `maybeDefragBackend`): at start-up, before serving, defragment the store
/// if that would free at least the threshold; otherwise say why not.
enum BootstrapDefrag {
    static func run(store: MVCCStore, dbPath: String, thresholdBytes: Int64, logger: Logger) throws {
        guard thresholdBytes > 0 else { return }
        let size = store.dbSizeBytes, inUse = store.dbSizeInUseBytes
        if size - inUse < thresholdBytes {
            logger.info("Skipping defragmentation", metadata: [
                "current-db-size-bytes": .int(size), "current-db-size": .string(HumanBytes.format(size)),
                "current-db-size-in-use-bytes": .int(inUse), "current-db-size-in-use": .string(HumanBytes.format(inUse)),
                "experimental-bootstrap-defrag-threshold-bytes": .int(thresholdBytes),
                "experimental-bootstrap-defrag-threshold": .string(HumanBytes.format(thresholdBytes))])
            return
        }
        try defragment(store: store, dbPath: dbPath, logger: logger)
    }

    /// Defragments with etcd's backend log lines ("defragmenting",
    /// "finished defragmenting directory"); shared with `swift-etcd defrag`.
    static func defragment(store: MVCCStore, dbPath: String, logger: Logger) throws {
        let size = store.dbSizeBytes, inUse = store.dbSizeInUseBytes
        logger.info("defragmenting", metadata: [
            "path": .string(dbPath), "current-db-size-bytes": .int(size), "current-db-size": .string(HumanBytes.format(size)),
            "current-db-size-in-use-bytes": .int(inUse), "current-db-size-in-use": .string(HumanBytes.format(inUse))])
        let clock = ContinuousClock()
        let began = clock.now
        let sizes = try store.defragment()
        let after = store.dbSizeInUseBytes
        logger.info("finished defragmenting directory", metadata: [
            "path": .string(dbPath), "current-db-size-bytes-diff": .int(sizes.afterBytes - sizes.beforeBytes),
            "current-db-size-bytes": .int(sizes.afterBytes), "current-db-size": .string(HumanBytes.format(sizes.afterBytes)),
            "current-db-size-in-use-bytes": .int(after), "current-db-size-in-use": .string(HumanBytes.format(after)),
            "took": .duration(clock.now - began)])
    }
}

/// go-humanize's `Bytes` (SI units), as etcd prints sizes next to byte counts: "2.1 GB", "16 kB".
enum HumanBytes {
    static func format(_ bytes: Int64) -> String {
        let s = Double(max(0, bytes))
        if s < 10 { return "\(max(0, bytes)) B" }
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        let e = min(Int((log(s) / log(1000)).rounded(.down)), units.count - 1)
        let value = (s / pow(1000, Double(e)) * 10 + 0.5).rounded(.down) / 10
        return value < 10 ? String(format: "%.1f %@", value, units[e]) : String(format: "%.0f %@", value, units[e])
    }
}
