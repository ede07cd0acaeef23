import Raft
import Support

extension WAL {
    /// Appends `entries` then `hardState` (if any); returns once they are on
    /// disk (fdatasync). Concurrent callers share one write and one fsync.
    public func save(hardState: HardState?, entries: [Entry]) throws {
        try save(hardState, entries, overlap: false, whileSyncing: {})
    }

    /// `save`, running `whileSyncing` (on this thread) once the records are
    /// written and their writeback started, before the fdatasync's wait: the
    /// caller's work overlaps the device write. It runs exactly once, after
    /// the write and never after the fsync: if another thread's flush
    /// carried the records, it runs before this call returns.
    public func save(hardState: HardState?, entries: [Entry], whileSyncing: () -> Void) throws {
        try save(hardState, entries, overlap: true, whileSyncing: whileSyncing)
    }

    private func save(_ hardState: HardState?, _ entries: [Entry], overlap: Bool, whileSyncing: () -> Void) throws {
        let hs = hardState.flatMap { $0.isEmpty ? nil : $0 }
        if hs == nil && entries.isEmpty { return whileSyncing() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(64) { $0 + $1.data.count + 48 })
        for e in entries { RecordCodec.encode(.entry(e), into: &bytes) }
        if let hs { RecordCodec.encode(.hardState(hs), into: &bytes) }
        var ran = false
        try commit(overlap: overlap, whileSyncing: { ran = true; whileSyncing() }) {
            queued.append(contentsOf: bytes)
            if let hs { queuedHardState = hs }
            if let last = entries.last { queuedLastIndex = last.index }
        }
        if !ran { whileSyncing() }
    }

    /// Queues a hard state whose loss is harmless (only the commit index
    /// moved: Raft's `mustSync` is false). It is written with the next
    /// durable batch and never fsynced on its own, as etcd does.
    public func saveUnsynced(hardState: HardState) throws {
        guard !hardState.isEmpty else { return }
        monitor.lock()
        defer { monitor.unlock() }
        try checkWritable()
        RecordCodec.encode(.hardState(hardState), into: &queued)
        queuedHardState = hardState
    }

    /// Makes whatever `saveUnsynced` queued durable (one write and fsync;
    /// nothing when the queue is empty). A graceful stop calls it, as etcd's
    /// WAL close syncs: otherwise the newest commit index is lost and the
    /// saved hard state trails what the member applied and acknowledged.
    public func syncQueued() throws {
        let pending = monitor.withLock { !queued.isEmpty }
        if pending { try commit {} }
    }

    /// Appends one entry at the next index (assigned under the queue lock, so
    /// concurrent callers get consecutive indexes) and returns that index once
    /// durable. For benchmarks and tools; Raft uses `save`.
    @discardableResult
    public func appendEntry(term: UInt64, type: EntryType = .normal, data: [UInt8]) throws -> UInt64 {
        var index: UInt64 = 0
        try commit {
            index = queuedLastIndex + 1
            RecordCodec.encode(.entry(Entry(term: term, index: index, type: type, data: data)), into: &queued)
            queuedLastIndex = index
        }
        return index
    }

    /// Records that a snapshot at `m` exists; durable on return. Write the
    /// snapshot file first, then this marker, then release segments.
    public func saveSnapshotMarker(_ m: WALSnapshotMarker) throws {
        let bytes = RecordCodec.encode(.snapshot(m))
        try commit {
            queued.append(contentsOf: bytes)
            queuedLastIndex = max(queuedLastIndex, m.index)
        }
    }

    /// Runs `enqueue` (which appends to the queue fields) under the monitor,
    /// then waits until the batch holding it is durable, flushing if no one else is.
    /// With `overlap`, the flush that carries the batch runs `whileSyncing`
    /// between its write and its fsync (see `save(hardState:entries:whileSyncing:)`).
    func commit(overlap: Bool = false, whileSyncing: () -> Void = {}, _ enqueue: () -> Void) throws {
        monitor.lock()
        defer { monitor.unlock() }
        try checkWritable()
        enqueue()
        let myBatch = fillingBatch
        while durableBatch < myBatch {
            try checkWritable()
            if busy {
                monitor.wait()
                continue
            }
            // Become the flusher for everything queued so far.
            busy = true
            let batch = queued, hs = queuedHardState, last = queuedLastIndex, id = fillingBatch
            queued = []
            queuedHardState = nil
            fillingBatch += 1
            monitor.unlock()
            let failure: String?
            do {
                try flush(batch, hardState: hs, lastIndex: last, overlap: overlap, whileSyncing: whileSyncing)
                failure = nil
            } catch {
                failure = "\(error)"
            }
            monitor.lock()
            busy = false
            if let failure {
                poison = failure
                logger.critical("wal: write failed, refusing all further writes: \(failure)")
            } else {
                durableBatch = id
            }
            monitor.broadcast()
        }
    }

    /// Must hold the monitor.
    func checkWritable() throws {
        if let poison { throw WALError.fsyncFailed(underlying: poison) }
        if isClosed { throw WALError.closed }
    }

    /// Writer-only: one write + one fdatasync, then a cut if the segment is full.
    private func flush(_ batch: [UInt8], hardState: HardState?, lastIndex: UInt64, overlap: Bool,
                       whileSyncing: () -> Void) throws {
        guard let file else { throw WALError.closed }
        try file.write(batch, at: offset)
        if overlap && !options.unsafeNoFsync { file.startWriteback(offset: offset, count: batch.count) }
        offset += UInt64(batch.count)
        if overlap { whileSyncing() }
        if !options.unsafeNoFsync {
            try zeroAhead(file)
            let syncStart = MonotonicClock.nanoseconds()
            try file.sync()
            fsyncObserver?(MonotonicClock.nanoseconds() &- syncStart)
        }
        if let hardState { writtenHardState = hardState }
        writtenLastIndex = lastIndex
        if offset >= options.segmentBytes { try cut() }
    }

    /// Writer-only: once the written offset comes within one chunk of the
    /// zeroed space, writes the next chunk of zeros past both (never over a
    /// record, never past the preallocated size); the batch's fsync carries
    /// it. See `WALOptions.zeroAheadBytes`.
    private func zeroAhead(_ file: any WALFile) throws {
        let chunk = UInt64(max(0, options.zeroAheadBytes))
        guard chunk > 0, offset + chunk > zeroedUpTo else { return }
        let start = max(zeroedUpTo, offset)
        let end = min(start + chunk, options.segmentBytes)
        guard end > start else { return }
        let count = Int(end - start)
        try file.write(count == WAL.zeroChunk.count ? WAL.zeroChunk : [UInt8](repeating: 0, count: count), at: start)
        zeroedUpTo = end
    }

    /// The default chunk of zeros, allocated once.
    static let zeroChunk = [UInt8](repeating: 0, count: WALOptions().zeroAheadBytes)

    /// Writer-only: seals the current segment at its written size and starts
    /// the next one, named after the next expected index, with the metadata
    /// and the latest durable hard state at its head.
    private func cut() throws {
        guard let file else { throw WALError.closed }
        try file.truncate(to: offset)
        try file.sync()
        let cur = segments[segments.count - 1]
        let next = SegmentName(sequence: cur.sequence + 1, firstIndex: writtenLastIndex + 1)
        var head: [UInt8] = []
        RecordCodec.encode(.metadata(metadata), into: &head)
        if !writtenHardState.isEmpty { RecordCodec.encode(.hardState(writtenHardState), into: &head) }
        let newFile = try WAL.createSegment(fs: fs, dir: dir, name: next, head: head, preallocate: options.segmentBytes)
        try? file.close()
        self.file = newFile
        segments.append(next)
        offset = UInt64(head.count)
        zeroedUpTo = offset
        logger.info("wal: cut segment \(next)")
    }

    /// Runs `body` with exclusive use of the writer fields.
    func withWriter<T>(_ body: () throws -> T) throws -> T {
        monitor.lock()
        while busy { monitor.wait() }
        do { try checkWritable() } catch { monitor.unlock(); throw error }
        busy = true
        monitor.unlock()
        defer {
            monitor.lock()
            busy = false
            monitor.broadcast()
            monitor.unlock()
        }
        return try body()
    }

    /// Deletes the oldest segments whose entries all lie below `index` (the
    /// next segment starts at or before it), keeping at least
    /// `options.maxSegments` files. Call after the snapshot at `index` and its
    /// marker are durable.
    public func releaseSegments(before index: UInt64) throws {
        try withWriter {
            var removed = 0
            while segments.count > max(1, options.maxSegments), segments.count >= 2, segments[1].firstIndex <= index {
                let path = dir + "/" + segments[0].description
                try fs.removeFile(path)
                segments.removeFirst()
                removed += 1
                logger.info("wal: released \(path)")
            }
            if removed > 0 { try fs.syncDirectory(dir) }
        }
    }

    /// Closes the current segment. Further calls throw `.closed`.
    public func close() throws {
        try withWriter {
            monitor.withLock { isClosed = true }
            let f = file
            file = nil
            try f?.close()
        }
    }

    /// Names of the current segment files, oldest first (for tests and tools).
    public var segmentFileNames: [String] {
        (try? withWriter { segments.map(\.description) }) ?? []
    }
}
