import Config
import Foundation
import Logging

/// Starting swift-etcd on a data dir that etcd wrote — the usual disaster
/// recovery, `etcdctl snapshot restore` then start the member on the
/// restored dir, or a stopped etcd member's own dir — converts it first, as
/// `swift-etcd migrate` would: etcd's files move aside to
/// `<data-dir>.etcd-<unix time>` (kept, never changed), and a swift-etcd
/// data dir with every committed key, revision, lease, alarm and user is
/// built at `<data-dir>` for this member's `--name`, `--initial-cluster`,
/// `--initial-cluster-token` and `--initial-advertise-peer-urls`. A data dir
/// a running etcd holds is refused untouched; a failed conversion puts
/// etcd's files back.
public enum EtcdDataDirAdoption {
    /// True when `dataDir` holds etcd's layout (a bbolt `member/snap/db`
    /// file and a `member/wal` dir) and none of swift-etcd's files.
    public static func isEtcdDataDir(_ dataDir: String) -> Bool {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dataDir + "/member/snap/db", isDirectory: &isDir), !isDir.boolValue else { return false }
        guard fm.fileExists(atPath: dataDir + "/member/wal", isDirectory: &isDir), isDir.boolValue else { return false }
        return !fm.fileExists(atPath: dataDir + "/member/members.json")
    }

    /// Converts `config.dataDir` when it is etcd's; returns where etcd's
    /// files went (nil: nothing to do).
    public static func adoptIfNeeded(_ config: EtcdConfig, logger: Logger) throws -> String? {
        let dataDir = config.dataDir
        guard config.walDir.isEmpty, isEtcdDataDir(dataDir) else { return nil }
        // Refuse before moving anything if an etcd still runs on it.
        try EtcdDirLock(db: dataDir + "/member/snap/db", walDir: dataDir + "/member/wal").release()
        let trimmed = dataDir.hasSuffix("/") ? String(dataDir.dropLast()) : dataDir
        let kept = "\(trimmed).etcd-\(Int(Date().timeIntervalSince1970))"
        logger.warning("data dir holds etcd's files; converting it to swift-etcd's (etcd's files are kept)",
                       metadata: ["data-dir": "\(dataDir)", "etcd-files": "\(kept)"])
        try FileManager.default.moveItem(atPath: dataDir, toPath: kept)
        var options = SnapshotRestoreOptions()
        options.name = config.name
        options.dataDir = dataDir
        options.initialCluster = config.initialCluster
        options.initialClusterToken = config.initialClusterToken
        options.initialAdvertisePeerURLs = config.initialAdvertisePeerURLs
        options.skipHashCheck = true  // a member's db has no trailing hash (as `migrate`)
        do {
            _ = try EtcdDataDirMigration(etcdDataDir: kept, options: options, logger: logger).run()
        } catch {
            try? FileManager.default.removeItem(atPath: dataDir)
            try? FileManager.default.moveItem(atPath: kept, toPath: dataDir)
            throw RestoreError("cannot convert etcd's data dir \(dataDir): \(error) (left as it was; " +
                               "`swift-etcd migrate --from-etcd-data-dir` converts it into another dir)")
        }
        return kept
    }
}
