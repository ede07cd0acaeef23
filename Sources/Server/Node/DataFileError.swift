import Foundation
import MVCC
import WAL

/// A file of the data dir that stops start-up: which file, the byte offset
/// the problem is at (nil when no single place applies), what is wrong and
/// what the operator can do. A member never starts on other data instead
/// (an older snapshot, the initial members, an empty store): that would
/// serve or vote with state the cluster has moved past.
struct DataFileError: Error, CustomStringConvertible {
    let file: String
    let offset: UInt64?
    let problem: String
    let remedy: String

    var description: String {
        "cannot start from \(file)\(offset.map { " at offset \($0)" } ?? ""): \(problem). \(remedy)"
    }

    /// What every damaged file allows: the cluster (or a backup) has the data.
    static let rebuildMember = "rebuild this member: in a cluster with other healthy members, " +
        "`etcdctl member remove` it, move its data dir aside, `etcdctl member add` it again and start it with " +
        "--initial-cluster-state existing (it copies the data from the leader); a single member restores its " +
        "latest backup with `swift-etcd snapshot restore` into a new --data-dir"

    static let checkAccess = "Check that the file exists, is a regular file and that this user may read and " +
        "write it (owner, mode, the disk itself), then start again"

    /// The server's reading of a WAL or snapshot-file error met at start-up
    /// (`walDir` names the place when the error names no file).
    init(_ error: WALError, walDir: String) {
        switch error {
        case .corruptRecord(let file, let offset, let reason):
            self.init(file: file, offset: offset, problem: "corrupt WAL record: \(reason)", remedy: Self.walRemedy)
        case .indexGap(let file, let offset, let expected, let found):
            self.init(file: file, offset: offset, problem: "the WAL skips from entry \(expected - 1) to \(found)",
                      remedy: Self.walRemedy)
        case .metadataMismatch(let file):
            self.init(file: file, offset: 0, problem: "the segment's metadata (member and cluster ID) differs from the first segment's",
                      remedy: Self.walRemedy)
        case .missingSegment(let dir, let sequence, let before):
            self.init(file: dir + "/" + before, offset: nil,
                      problem: "the WAL segment with sequence \(String(sequence, radix: 16)) before it is missing",
                      remedy: Self.walRemedy)
        case .corruptSnapshot(let file, let offset, let reason):
            self.init(file: file, offset: offset, problem: "corrupt snapshot file: \(reason)",
                      remedy: "Move it aside (rename it to \(file).broken): the member then starts from the next older " +
                        "snapshot file, which works while the WAL still holds the entries after it. Otherwise, " + Self.rebuildMember)
        case .io(let op, let path, let errno):
            self.init(file: path, offset: nil, problem: "\(op) failed: \(String(cString: strerror(errno)))", remedy: Self.checkAccess)
        default:
            self.init(file: walDir, offset: nil, problem: error.description, remedy: "To recover, " + Self.rebuildMember)
        }
    }

    init(_ error: StoreFileError) {
        self.init(file: error.file, offset: error.offset, problem: "LMDB store: " + error.reason,
                  remedy: error.unreadable ? Self.checkAccess : "To recover, " + Self.rebuildMember)
    }

    init(file: String, offset: UInt64?, problem: String, remedy: String) {
        self.file = file
        self.offset = offset
        self.problem = problem
        self.remedy = remedy
    }

    /// Runs a start-up read of the store (leases, auth, versions); a store
    /// failure there is damage inside data.mdb (LMDB keeps no checksums, so
    /// it shows only when read), named as such instead of as a bare MVCC error.
    static func readingStore<T>(_ dbFile: String, _ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as MVCCError where e.isStoreFailure {
            throw DataFileError(file: dbFile, offset: nil, problem: "LMDB store: \(e.message) (reading \(what))",
                                remedy: "To recover, " + rebuildMember)
        }
    }

    private static let walRemedy = "Only a torn write at the end of the last segment is repaired automatically; " +
        "damage anywhere else may have lost acknowledged entries. To recover, " + rebuildMember
}
