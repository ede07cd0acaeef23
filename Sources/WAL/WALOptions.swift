import Logging

/// Tunables for a WAL. The defaults are production values.
public struct WALOptions: Sendable {
    /// Size each new segment is preallocated to; a segment is cut once its
    /// written size reaches it (a batch may run past it).
    public var segmentBytes: UInt64 = 64 * 1024 * 1024
    /// `--max-wals`: `releaseSegments` keeps at least this many segment files.
    public var maxSegments: Int = 5
    /// Recovery reads segments in chunks of this size (a record larger
    /// than it is read whole).
    public var readChunkBytes: Int = 1 << 20
    public var fileSystem: any WALFileSystem = PosixFileSystem()
    public var logger = Logger(label: "swift-etcd.wal")
    /// `--unsafe-no-fsync`: never fsync (use with `UnsafeNoSyncFileSystem`);
    /// batches are then not timed for the fsync metric, as etcd skips it.
    public var unsafeNoFsync = false
    /// How far ahead of the write offset the writer keeps the segment
    /// written with zeros (0: never). Preallocated space is "unwritten" to
    /// the file system: the first fdatasync that writes into it must also
    /// commit the extent change to the journal, while an fdatasync over
    /// space already holding zeros is a plain data flush (PostgreSQL zero-fills
    /// its WAL segments for this reason). Measured here on ext4: fdatasync of
    /// a 13 KB append 25-40 % faster at p50 and mean. The zeros go out with
    /// an ordinary batch's fsync, one chunk every `zeroAheadBytes` of log.
    public var zeroAheadBytes: Int = 1 << 20

    public init() {}

    /// The options `--unsafe-no-fsync` and `--max-wals` ask for.
    public static func server(maxSegments: Int, unsafeNoFsync: Bool, logger: Logger) -> WALOptions {
        var o = WALOptions()
        o.maxSegments = maxSegments
        o.logger = logger
        o.unsafeNoFsync = unsafeNoFsync
        if unsafeNoFsync { o.fileSystem = UnsafeNoSyncFileSystem() }
        return o
    }

    public init(segmentBytes: UInt64 = 64 * 1024 * 1024, maxSegments: Int = 5,
                fileSystem: any WALFileSystem = PosixFileSystem(), logger: Logger = Logger(label: "swift-etcd.wal")) {
        self.segmentBytes = segmentBytes
        self.maxSegments = maxSegments
        self.fileSystem = fileSystem
        self.logger = logger
    }
}

/// A repair `open` made to the last segment (also logged at warning level).
public struct WALRepair: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// Offset the segment was truncated to.
    public var offset: UInt64
    public var reason: String

    public var description: String { "truncated torn tail of \(file) at offset \(offset): \(reason)" }
}
