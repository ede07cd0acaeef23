/// Everything that can go wrong opening, reading or writing the WAL and snapshot files.
///
/// Every case that concerns on-disk data names the file and, where it makes
/// sense, the byte offset, so an operator can look at the exact spot.
public enum WALError: Error, CustomStringConvertible, Equatable {
    /// `create` found an existing WAL, or `open` found none.
    case alreadyExists(dir: String)
    case notFound(dir: String)
    /// A record that is not a torn tail failed its CRC or could not be decoded.
    case corruptRecord(file: String, offset: UInt64, reason: String)
    /// A segment file in the middle of the sequence is missing.
    case missingSegment(dir: String, expectedSequence: UInt64, before: String)
    /// A segment file name that does not parse, or sequences out of order.
    case badSegmentName(file: String)
    /// Entries jump over an index (the WAL lost data between them).
    case indexGap(file: String, offset: UInt64, expected: UInt64, found: UInt64)
    /// The snapshot marker to open from is not in the WAL.
    case snapshotMarkerNotFound(index: UInt64, term: UInt64)
    /// Segments disagree about the metadata written at their heads.
    case metadataMismatch(file: String)
    /// A write or fsync failed earlier; the WAL refuses all further writes
    /// (the "fsyncgate" rule: after a failed fsync the page cache state is
    /// unknown, so retrying could acknowledge data that is not on disk).
    case fsyncFailed(underlying: String)
    /// The WAL was closed.
    case closed
    /// A system call failed.
    case io(op: String, path: String, errno: Int32)
    /// A snapshot file does not verify; `offset` is where the problem is
    /// (for a CRC mismatch: the stored CRC at the end of the file).
    case corruptSnapshot(file: String, offset: UInt64, reason: String)

    public var description: String {
        switch self {
        case .alreadyExists(let dir): return "wal: a WAL already exists in \(dir)"
        case .notFound(let dir): return "wal: no WAL segments in \(dir)"
        case .corruptRecord(let file, let offset, let reason):
            return "wal: corrupt record in \(file) at offset \(offset): \(reason)"
        case .missingSegment(let dir, let seq, let before):
            return "wal: missing segment with sequence \(String(seq, radix: 16)) in \(dir) (before \(before))"
        case .badSegmentName(let file): return "wal: unexpected segment file name \(file)"
        case .indexGap(let file, let offset, let expected, let found):
            return "wal: index gap in \(file) at offset \(offset): expected entry \(expected), found \(found)"
        case .snapshotMarkerNotFound(let index, let term):
            return "wal: snapshot marker (term \(term), index \(index)) not found in the WAL"
        case .metadataMismatch(let file): return "wal: metadata in \(file) differs from the first segment"
        case .fsyncFailed(let underlying):
            return "wal: an earlier write or fsync failed (\(underlying)); the WAL refuses further writes, restart to recover"
        case .closed: return "wal: closed"
        case .io(let op, let path, let errno): return "wal: \(op) \(path) failed: errno \(errno) (\(describeErrno(errno)))"
        case .corruptSnapshot(let file, let offset, let reason): return "snap: corrupt snapshot \(file) at offset \(offset): \(reason)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func describeErrno(_ e: Int32) -> String {
    guard let s = strerror(e) else { return "unknown" }
    return String(cString: s)
}
