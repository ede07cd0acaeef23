import Raft

/// What reading the WAL directory found. Pure data; `WAL.open` acts on it.
struct RecoveredLog {
    var metadata: [UInt8] = []
    var hardState = HardState()
    /// Entries after the requested marker, with overwritten suffixes already replaced.
    var entries: [Entry] = []
    /// Every snapshot marker record, in log order.
    var markers: [WALSnapshotMarker] = []
    var markerFound = false
    /// Index of the last entry (or marker, if larger) in the log: the next segment is named after it + 1.
    var lastIndex: UInt64 = 0
    var segments: [SegmentName] = []
    /// Offset just past the last valid record of the last segment.
    var lastSegmentEnd: UInt64 = 0
    /// A torn or zero-filled tail found in the last segment (to truncate).
    var tornTail: (file: String, offset: UInt64, reason: String)?
}

/// Reads and verifies every segment of a WAL directory, in sequence order.
///
/// Rules: every record's CRC is checked; a failing frame in the *last*
/// segment that looks torn (runs past the end, or has an all-zero sector) ends
/// the log there and is reported as `tornTail`; any other failing frame,
/// a sequence hole, or an index that jumps forward throws with file and offset.
///
/// Segments are read in chunks of `chunkBytes` (`SegmentScanner`), so memory
/// does not grow with the segment size; the entries collected after the
/// marker are kept, as Raft's in-memory log needs them.
struct WALReader {
    let fs: any WALFileSystem
    let dir: String
    var chunkBytes: Int = 1 << 20

    func segmentNames() throws -> [SegmentName] {
        guard fs.fileExists(dir) else { return [] }
        let names = try fs.listDirectory(dir).compactMap(SegmentName.parse).sorted()
        for i in names.indices.dropFirst() where names[i].sequence != names[i - 1].sequence + 1 {
            throw WALError.missingSegment(dir: dir, expectedSequence: names[i - 1].sequence + 1, before: names[i].description)
        }
        return names
    }

    /// Reads the whole WAL. `collectEntries: false` only gathers markers and hard state.
    func read(from marker: WALSnapshotMarker, collectEntries: Bool = true) throws -> RecoveredLog {
        var out = RecoveredLog()
        out.segments = try segmentNames()
        guard !out.segments.isEmpty else { throw WALError.notFound(dir: dir) }
        var metadata: [UInt8]?
        var tail: UInt64?
        for (i, seg) in out.segments.enumerated() {
            let path = dir + "/" + seg.description
            let isLast = i == out.segments.count - 1
            var scanner = try SegmentScanner(fs: fs, path: path, chunkBytes: chunkBytes)
            var offset: UInt64 = 0
            var first = true
            scan: while true {
                switch try scanner.decode(at: offset) {
                case .end:
                    // Past the end marker a segment must be zero (preallocated).
                    if let junk = try scanner.firstNonZero(from: offset) {
                        let reason = "non-zero bytes at offset \(junk) after the end of the log"
                        guard isLast && !first else {
                            throw WALError.corruptRecord(file: path, offset: offset, reason: reason)
                        }
                        out.tornTail = (path, offset, reason)
                    }
                    break scan
                case .bad(let reason, let torn):
                    if isLast && torn && !first {
                        out.tornTail = (path, offset, reason)
                        break scan
                    }
                    throw WALError.corruptRecord(file: path, offset: offset, reason: reason)
                case .record(let rec, let next):
                    if first {
                        guard case .metadata(let m) = rec else {
                            throw WALError.corruptRecord(file: path, offset: 0, reason: "segment does not begin with a metadata record")
                        }
                        if let known = metadata, known != m { throw WALError.metadataMismatch(file: path) }
                        metadata = m
                        first = false
                    }
                    switch rec {
                    case .metadata:
                        break
                    case .hardState(let h):
                        out.hardState = h
                    case .snapshot(let m):
                        out.markers.append(m)
                        if m == marker { out.markerFound = true }
                        tail = max(tail ?? 0, m.index)
                    case .entry(let e):
                        if let t = tail, e.index > t + 1 {
                            throw WALError.indexGap(file: path, offset: offset, expected: t + 1, found: e.index)
                        }
                        tail = e.index
                        if collectEntries && e.index > marker.index {
                            let pos = Int(e.index - marker.index - 1)
                            if pos > out.entries.count {
                                throw WALError.indexGap(file: path, offset: offset,
                                                        expected: marker.index + 1 + UInt64(out.entries.count), found: e.index)
                            }
                            // A later term rewrote the log from e.index on: drop the stale suffix.
                            out.entries.removeLast(out.entries.count - pos)
                            out.entries.append(e)
                        }
                    }
                    offset = UInt64(next)
                }
            }
            if first {
                throw WALError.corruptRecord(file: path, offset: 0, reason: "segment has no metadata record")
            }
            if isLast { out.lastSegmentEnd = offset }
        }
        out.metadata = metadata ?? []
        out.lastIndex = tail ?? 0
        return out
    }
}
