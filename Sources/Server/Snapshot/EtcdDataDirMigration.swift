import Config
import Foundation
import Logging

/// `swift-etcd migrate`: a swift-etcd data dir from a stopped etcd member's
/// data dir, as `snapshot restore` builds one from a snapshot (new member
/// and cluster IDs from the flags), from the member's `member/snap/db`
/// plus the committed entries of its WAL after the db's consistent index,
/// which the new member applies when it first starts: nothing etcd
/// acknowledged is lost. Entries past the WAL's commit index were never
/// acknowledged and are left out; membership changes are replaced by the
/// new cluster's, but the IDs of members the etcd cluster removed (its
/// `members_removed` bucket) are kept, so a removed member stays refused.
public struct EtcdDataDirMigration {
    public let etcdDataDir: String
    public let options: SnapshotRestoreOptions
    let logger: Logger

    public init(etcdDataDir: String, options: SnapshotRestoreOptions, logger: Logger) {
        self.etcdDataDir = etcdDataDir
        self.options = options
        self.logger = logger
    }

    public func run() throws -> SnapshotRestore.Result {
        let member = etcdDataDir + "/member"
        let db = member + "/snap/db", walDir = member + "/wal"
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: db), FileManager.default.fileExists(atPath: walDir, isDirectory: &isDir),
              isDir.boolValue else {
            throw RestoreError("\(etcdDataDir) is not an etcd data dir (no member/snap/db and member/wal)")
        }
        let lock = try EtcdDirLock(db: db, walDir: walDir)
        defer { lock.release() }
        var restore = SnapshotRestore(file: db, options: options, logger: logger)
        restore.etcdWALDir = walDir
        return try restore.run()
    }
}
