import Logging
import Raft

/// The write-ahead log: segmented, preallocated files of CRC-framed records in
/// one directory (`<data-dir>/member/wal`). Format and recovery rules: README.md.
///
/// Writes go through group commit: every `save` queues its encoded records;
/// whichever caller finds no flush in progress becomes the flusher, writes
/// everything queued with one `pwrite` and one `fdatasync`, and wakes the
/// others. A call returns only once its records are durable. Any write or
/// fsync failure poisons the WAL: every later call throws `.fsyncFailed`.
///
/// Thread-safety: all methods may be called from any thread. `monitor`
/// guards the queue fields; the writer fields (`file`, `segments`, ...) are
/// touched only by the thread that set `busy`.
public final class WAL: @unchecked Sendable {
    let fs: any WALFileSystem
    public let dir: String
    let options: WALOptions
    let metadata: [UInt8]
    var logger: Logger { options.logger }
    /// Repairs made while opening (torn tail truncated).
    public let repairs: [WALRepair]
    /// Called after each batch fdatasync with its duration in nanoseconds
    /// (etcd's wal_fsync_duration_seconds). Set before the first write.
    public var fsyncObserver: (@Sendable (UInt64) -> Void)?

    let monitor = Monitor()
    // Guarded by monitor.
    var queued: [UInt8] = []
    var queuedHardState: HardState?
    /// Log tail index once everything queued is written.
    var queuedLastIndex: UInt64
    /// Id of the batch now being filled; a caller waits until `durableBatch` reaches it.
    var fillingBatch: UInt64 = 1
    var durableBatch: UInt64 = 0
    /// True while one thread owns the writer fields (flush, release, close).
    var busy = false
    var poison: String?
    var isClosed = false

    // Writer fields: owned by the thread that set `busy`.
    var file: (any WALFile)?
    var segments: [SegmentName]
    var offset: UInt64
    var writtenHardState: HardState
    var writtenLastIndex: UInt64
    /// The current segment holds written zeros (or records) up to here
    /// (`WALOptions.zeroAheadBytes`); nothing is known past `offset` at open.
    var zeroedUpTo: UInt64

    init(fs: any WALFileSystem, dir: String, options: WALOptions, metadata: [UInt8], file: any WALFile,
         segments: [SegmentName], offset: UInt64, hardState: HardState, lastIndex: UInt64, repairs: [WALRepair]) {
        self.fs = fs
        self.dir = dir
        self.options = options
        self.metadata = metadata
        self.file = file
        self.segments = segments
        self.offset = offset
        self.zeroedUpTo = offset
        self.writtenHardState = hardState
        self.writtenLastIndex = lastIndex
        self.queuedLastIndex = lastIndex
        self.repairs = repairs
    }

    /// True if `dir` holds at least one segment file.
    public static func exists(dir: String) -> Bool {
        exists(dir: dir, options: WALOptions())
    }

    public static func exists(dir: String, options: WALOptions) -> Bool {
        (try? hasSegments(dir: dir, options: options)) ?? false
    }

    /// True if `dir` holds at least one segment file, false if there is no
    /// `dir`. One that exists but cannot be listed (permissions, a file in
    /// its place) throws: taken for an empty one, it would be reported as a
    /// deleted WAL, or a new member would start beside this one's store.
    public static func hasSegments(dir: String, options: WALOptions = WALOptions()) throws -> Bool {
        let fs = options.fileSystem
        guard fs.fileExists(dir) else { return false }
        return try fs.listDirectory(dir).contains { SegmentName.parse($0) != nil }
    }

    /// Creates a WAL in `dir` (created if missing; must hold no segments) whose
    /// segments all start with `metadata`. The first segment also holds an
    /// empty snapshot marker, so `open(from: .zero)` works.
    public static func create(dir: String, metadata: [UInt8]) throws -> WAL {
        try create(dir: dir, metadata: metadata, options: WALOptions())
    }

    public static func create(dir: String, metadata: [UInt8], options: WALOptions) throws -> WAL {
        let fs = options.fileSystem
        if exists(dir: dir, options: options) { throw WALError.alreadyExists(dir: dir) }
        try fs.createDirectory(dir)
        try removeTempFiles(fs: fs, dir: dir)
        let name = SegmentName(sequence: 0, firstIndex: 0)
        var head: [UInt8] = []
        RecordCodec.encode(.metadata(metadata), into: &head)
        RecordCodec.encode(.snapshot(.zero), into: &head)
        let file = try createSegment(fs: fs, dir: dir, name: name, head: head, preallocate: options.segmentBytes)
        return WAL(fs: fs, dir: dir, options: options, metadata: metadata, file: file, segments: [name],
                   offset: UInt64(head.count), hardState: HardState(), lastIndex: 0, repairs: [])
    }

    /// Opens for reading and appending. Returns the metadata, the last hard
    /// state and every entry after `marker` (stale suffixes already replaced by
    /// later terms). A torn tail of the last segment is truncated and logged;
    /// any other damage throws a `WALError` naming the file and offset.
    public static func open(dir: String, from marker: WALSnapshotMarker) throws
        -> (wal: WAL, metadata: [UInt8], hardState: HardState, entries: [Entry]) {
        try open(dir: dir, from: marker, options: WALOptions())
    }

    public static func open(dir: String, from marker: WALSnapshotMarker, options: WALOptions) throws
        -> (wal: WAL, metadata: [UInt8], hardState: HardState, entries: [Entry]) {
        let log = try WALReader(fs: options.fileSystem, dir: dir, chunkBytes: options.readChunkBytes).read(from: marker)
        if marker.index != 0 && !log.markerFound {
            throw WALError.snapshotMarkerNotFound(index: marker.index, term: marker.term)
        }
        return try finishOpen(dir: dir, log: log, options: options)
    }

    /// Opens from the snapshot `choose` picks among the valid markers (see
    /// `validSnapshotMarkers`), reading the log once when the pick is
    /// `expected` (the newest snapshot file's marker, the usual case) and
    /// twice otherwise. Returns the chosen marker too.
    public static func open(dir: String, expecting expected: WALSnapshotMarker, options: WALOptions = WALOptions(),
                            choose: ([WALSnapshotMarker]) throws -> WALSnapshotMarker) throws
        -> (wal: WAL, metadata: [UInt8], hardState: HardState, entries: [Entry], marker: WALSnapshotMarker) {
        let reader = WALReader(fs: options.fileSystem, dir: dir, chunkBytes: options.readChunkBytes)
        var log: RecoveredLog
        var complete = true
        do {
            log = try reader.read(from: expected)
        } catch WALError.indexGap {
            // No entries right after `expected` (say, its file is older than
            // the released segments): markers only, then the real read.
            log = try reader.read(from: expected, collectEntries: false)
            complete = false
        }
        let marker = try choose([.zero] + log.markers.filter { $0.index != 0 && $0.index <= log.hardState.commit })
        if marker != expected || !complete { log = try reader.read(from: marker) }
        if marker.index != 0 && !log.markerFound {
            throw WALError.snapshotMarkerNotFound(index: marker.index, term: marker.term)
        }
        let opened = try finishOpen(dir: dir, log: log, options: options)
        return (opened.wal, opened.metadata, opened.hardState, opened.entries, marker)
    }

    private static func finishOpen(dir: String, log: RecoveredLog, options: WALOptions) throws
        -> (wal: WAL, metadata: [UInt8], hardState: HardState, entries: [Entry]) {
        let fs = options.fileSystem
        try removeTempFiles(fs: fs, dir: dir)
        var repairs: [WALRepair] = []
        if let torn = log.tornTail {
            let r = WALRepair(file: torn.file, offset: torn.offset, reason: torn.reason)
            options.logger.warning("wal: repair: \(r)")
            repairs.append(r)
        }
        // Always cut the last segment back to its valid end and re-zero the
        // rest, so no stray bytes past it can be mistaken for records later.
        let last = log.segments[log.segments.count - 1]
        let file = try fs.openFile(dir + "/" + last.description, create: false)
        try file.truncate(to: log.lastSegmentEnd)
        try file.preallocate(options.segmentBytes)
        try file.sync()
        let wal = WAL(fs: fs, dir: dir, options: options, metadata: log.metadata, file: file, segments: log.segments,
                      offset: log.lastSegmentEnd, hardState: log.hardState, lastIndex: log.lastIndex, repairs: repairs)
        return (wal, log.metadata, log.hardState, log.entries)
    }

    /// The snapshot markers a snapshot file may be loaded for: those in the
    /// WAL whose index is committed by the last hard state (plus `.zero`).
    public static func validSnapshotMarkers(dir: String, options: WALOptions = WALOptions()) throws -> [WALSnapshotMarker] {
        let log = try WALReader(fs: options.fileSystem, dir: dir, chunkBytes: options.readChunkBytes)
            .read(from: .zero, collectEntries: false)
        return [.zero] + log.markers.filter { $0.index != 0 && $0.index <= log.hardState.commit }
    }

    /// Writes a new segment via temp file + fsync + rename + directory fsync,
    /// and returns it open for appending after `head`.
    static func createSegment(fs: any WALFileSystem, dir: String, name: SegmentName, head: [UInt8],
                              preallocate: UInt64) throws -> any WALFile {
        let tmp = dir + "/" + name.description + ".tmp"
        if fs.fileExists(tmp) { try fs.removeFile(tmp) }
        let f = try fs.openFile(tmp, create: true)
        do {
            try f.preallocate(preallocate)
            try f.write(head, at: 0)
            try f.sync()
            try fs.rename(tmp, to: dir + "/" + name.description)
            try fs.syncDirectory(dir)
        } catch {
            try? f.close()
            throw error
        }
        return f
    }

    static func removeTempFiles(fs: any WALFileSystem, dir: String) throws {
        for name in try fs.listDirectory(dir) where name.hasSuffix(".wal.tmp") {
            try fs.removeFile(dir + "/" + name)
        }
    }
}
