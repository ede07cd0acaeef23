import Logging

/// Tunables for a WAL. The defaults are production values.
public struct WALOptions: @unchecked Sendable {
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

    public init() {}

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
