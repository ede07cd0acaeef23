import Foundation

/// Database files received from the leader whose Raft snapshot has not been
/// installed yet, by snapshot index. Files live in the snap dir (the same
/// filesystem as the store, so installing is a rename): `db.incoming-*`
/// while a transfer runs, then registered here until the Raft loop takes
/// one (`take`). Whatever is left at start-up is a transfer or an install a
/// crash interrupted, never the store itself: it is deleted. A file Raft
/// turned down (its log had caught up meanwhile) goes once the member has
/// applied past its index (`discard(through:)`): a database copy can be as
/// large as the store, and it would otherwise wait for a restart.
///
/// Thread-safe: the peer event loop registers, the Raft loop takes.
final class ReceivedSnapshots: @unchecked Sendable {
    static let prefix = "db.incoming-"
    /// Files kept waiting at most; older ones are superseded anyway.
    static let maxWaiting = 4

    let dir: String
    private let lock = NSLock()
    private var waiting: [UInt64: String] = [:]  // snapshot index → file; guarded by `lock`

    init(dir: String) {
        self.dir = dir
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(Self.prefix) {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    /// A fresh path for a transfer's file.
    func newPath() -> String { dir + "/\(Self.prefix)\(UUID().uuidString)" }

    /// Registers a complete, verified file for the snapshot at `index`.
    func add(index: UInt64, path: String) {
        let dropped: [String] = lock.withLock {
            var dropped: [String] = []
            if let old = waiting.updateValue(path, forKey: index), old != path { dropped.append(old) }
            while waiting.count > Self.maxWaiting, let oldest = waiting.keys.min() {
                dropped.append(waiting.removeValue(forKey: oldest)!)
            }
            return dropped
        }
        for p in dropped { unlink(p) }
    }

    /// Deletes the files of snapshots at or below `appliedIndex`: Raft never
    /// installs a snapshot its member has applied past.
    func discard(through appliedIndex: UInt64) {
        let stale: [String] = lock.withLock {
            guard !waiting.isEmpty else { return [] }
            let old = waiting.keys.filter { $0 <= appliedIndex }
            return old.map { waiting.removeValue(forKey: $0)! }
        }
        for p in stale { unlink(p) }
    }

    /// The file for the snapshot at `index`, now owned by the caller; files
    /// of older snapshots are deleted (Raft will not install them any more).
    func take(index: UInt64) -> String? {
        let (path, stale): (String?, [String]) = lock.withLock {
            let path = waiting.removeValue(forKey: index)
            let older = waiting.keys.filter { $0 < index }
            return (path, older.map { waiting.removeValue(forKey: $0)! })
        }
        for p in stale { unlink(p) }
        return path
    }
}
