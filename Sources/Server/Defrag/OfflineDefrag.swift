import Foundation
import Logging
import MVCC

/// `swift-etcd defrag --data-dir DIR` (etcdutl's `defrag`): rewrites a
/// stopped member's store into a compacted copy. Refuses a data dir in use:
/// a running member holds its lock (`DataDirLock`), which this holds too
/// while it works, so no member starts on the dir meanwhile.
public enum OfflineDefrag {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(dataDir: String, logger: Logger) throws {
        let dbPath = dataDir + "/member/snap/db"
        guard FileManager.default.fileExists(atPath: dbPath + "/data.mdb") else {
            throw Failure(description: "open \(dbPath): no such file or directory")
        }
        let lock: DataDirLock
        do {
            lock = try DataDirLock.acquire(dataDir: dataDir)
        } catch let inUse as DataDirLock.InUse {
            throw Failure(description: "\(inUse); stop the member before defragmenting it offline (or run `etcdctl defrag` against it online)")
        }
        defer { lock.release() }
        let store = try MVCCStore(path: dbPath)
        defer { store.close() }
        try BootstrapDefrag.defragment(store: store, dbPath: dbPath, logger: logger)
    }
}
