import Logging
import Raft

/// Raft snapshot files in one directory (`<data-dir>/member/snap`), named
/// `%016x-%016x.snap` of (term, index), written atomically (temp file, fsync,
/// rename, directory fsync). Keeps the newest `maxSnapshots` files.
///
/// Thread-safety: a store is used by one thread at a time (the Raft loop).
public final class SnapshotStore: @unchecked Sendable {
    public let dir: String
    public let maxSnapshots: Int
    let fs: any WALFileSystem
    let logger: Logger

    public convenience init(dir: String, maxSnapshots: Int = 5) throws {
        try self.init(dir: dir, maxSnapshots: maxSnapshots, fileSystem: PosixFileSystem())
    }

    public init(dir: String, maxSnapshots: Int = 5, fileSystem: any WALFileSystem,
                logger: Logger = Logger(label: "swift-etcd.snap")) throws {
        self.dir = dir
        self.maxSnapshots = max(1, maxSnapshots)
        self.fs = fileSystem
        self.logger = logger
        try fs.createDirectory(dir)
    }

    static func fileName(term: UInt64, index: UInt64) -> String {
        SegmentName.hex16(term) + "-" + SegmentName.hex16(index) + ".snap"
    }

    /// Snapshot file names, newest (highest index, then term) first.
    public func fileNames() throws -> [String] {
        let names = try fs.listDirectory(dir).filter { $0.hasSuffix(".snap") }
        func key(_ n: String) -> (UInt64, UInt64) {
            guard let m = Self.marker(fileName: n) else { return (0, 0) }
            return (m.index, m.term)
        }
        return names.sorted { key($0) > key($1) }
    }

    /// Writes `s` durably and then deletes all but the newest `maxSnapshots` files.
    public func save(_ s: Snapshot) throws {
        let name = Self.fileName(term: s.metadata.term, index: s.metadata.index)
        try fs.writeFileAtomically(dir: dir, name: name, bytes: SnapshotCodec.encode(s))
        let names = try fileNames()
        if names.count > maxSnapshots {
            for old in names[maxSnapshots...] {
                try fs.removeFile(dir + "/" + old)
                logger.info("snap: removed old snapshot \(old)")
            }
            try fs.syncDirectory(dir)
        }
    }

    /// Loads one file; throws `.corruptSnapshot` naming it if it does not verify.
    public func load(fileName: String) throws -> Snapshot {
        let path = dir + "/" + fileName
        let s = try SnapshotCodec.decode(try fs.readFile(path), file: path)
        guard Self.fileName(term: s.metadata.term, index: s.metadata.index) == fileName else {
            throw WALError.corruptSnapshot(file: path, offset: 8,
                                           reason: "contents (term \(s.metadata.term), index \(s.metadata.index)) do not match the file name")
        }
        return s
    }

    /// The newest snapshot that has a matching WAL marker (any, if
    /// `validMarkers` is nil); nil if none. A file without a marker is
    /// skipped (the member stopped between writing it and its marker). A
    /// file that does not verify or cannot be read throws, naming it: it
    /// was complete once (written, fsynced and renamed into place), so
    /// starting from an older one instead would hide real damage; the
    /// operator decides (see the server's start-up error).
    public func loadNewest(validMarkers: [WALSnapshotMarker]?) throws -> Snapshot? {
        let valid = validMarkers.map(Set.init)
        for name in try fileNames() {
            if let valid, let marker = Self.marker(fileName: name), !valid.contains(marker) { continue }
            let s = try load(fileName: name)
            if let valid, !valid.contains(WALSnapshotMarker(index: s.metadata.index, term: s.metadata.term)) {
                continue
            }
            return s
        }
        return nil
    }

    /// The marker the newest snapshot file's name claims (nil without files):
    /// what `WAL.open(dir:expecting:)` expects to start from.
    public func newestMarker() throws -> WALSnapshotMarker? {
        try fileNames().lazy.compactMap(Self.marker(fileName:)).first
    }

    /// The (index, term) a file's name claims.
    static func marker(fileName: String) -> WALSnapshotMarker? {
        let parts = fileName.dropLast(5).split(separator: "-")
        guard fileName.hasSuffix(".snap"), parts.count == 2, let t = UInt64(parts[0], radix: 16),
              let i = UInt64(parts[1], radix: 16) else { return nil }
        return WALSnapshotMarker(index: i, term: t)
    }
}
