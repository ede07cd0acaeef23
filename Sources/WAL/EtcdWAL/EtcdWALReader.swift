import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a stopped etcd member's WAL directory with `EtcdWALDecoder`: every
/// segment in name order, record by record (memory: one record). As etcd,
/// a torn last record of the last segment (a crash mid-write: part of it
/// reads as zeros) ends the log; anything else that does not decode is an
/// `EtcdWALError` naming the segment and offset.
public enum EtcdWALReader {
    /// The log after `afterIndex`, the last hard state and the metadata.
    public static func read(dir: String, afterIndex: UInt64) throws -> EtcdWALDecoder.Contents {
        let names = try segmentNames(dir)
        var decoder = EtcdWALDecoder(afterIndex: afterIndex)
        for (i, name) in names.enumerated() {
            try readSegment(dir + "/" + name, isLast: i == names.count - 1, into: &decoder)
        }
        return decoder.contents
    }

    /// The `*.wal` files, checked to be consecutive segments, in order.
    static func segmentNames(_ dir: String) throws -> [String] {
        let all: [String]
        do { all = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw EtcdWALError(file: dir, offset: 0, reason: "cannot list the WAL directory: \(error.localizedDescription)")
        }
        var segments: [(seq: UInt64, name: String)] = []
        for name in all where name.hasSuffix(".wal") {
            let parts = name.dropLast(4).split(separator: "-")
            guard parts.count == 2, parts.allSatisfy({ $0.count == 16 }), let seq = UInt64(parts[0], radix: 16),
                  UInt64(parts[1], radix: 16) != nil else {
                throw EtcdWALError(file: dir + "/" + name, offset: 0, reason: "not a WAL segment name (want %016x-%016x.wal)")
            }
            segments.append((seq, name))
        }
        segments.sort { $0.seq < $1.seq }
        if segments.isEmpty { throw EtcdWALError(file: dir, offset: 0, reason: "no WAL segments") }
        for (a, b) in zip(segments, segments.dropFirst()) where b.seq != a.seq + 1 {
            throw EtcdWALError(file: dir + "/" + b.name, offset: 0, reason: "segment \(b.seq) follows segment \(a.seq): one is missing")
        }
        return segments.map(\.name)
    }

    static func readSegment(_ path: String, isLast: Bool, into decoder: inout EtcdWALDecoder) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw EtcdWALError(file: path, offset: 0, reason: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        try decodeSegment(name: path, sizeBytes: Int64(st.st_size), isLast: isLast, into: &decoder) { buffer, offset in
            try readFully(fd, buffer, at: offset, path: path)
        }
    }

    /// Decodes one segment of `sizeBytes` bytes, read through `read` (a
    /// file, or memory for tests and fuzzing), record by record.
    public static func decodeSegment(name: String, sizeBytes size: Int64, isLast: Bool, into decoder: inout EtcdWALDecoder,
                                     read: (UnsafeMutableRawBufferPointer, Int64) throws -> Void) throws {
        var offset: Int64 = 0
        while size - offset >= 8 {
            var lengthField: UInt64 = 0
            try withUnsafeMutableBytes(of: &lengthField) { try read($0, offset) }
            lengthField = UInt64(littleEndian: lengthField)
            if lengthField == 0 { return }  // preallocated space: the segment ends here
            guard let (recordBytes, padding) = EtcdWALDecoder.frame(lengthField) else {
                if isLast { return }
                throw EtcdWALError(file: name, offset: offset, reason: "record length \(lengthField & 0x00ff_ffff_ffff_ffff) over etcd's \(EtcdWALDecoder.maxRecordBytes)-byte limit")
            }
            let frameEnd = offset + 8 + Int64(recordBytes + padding)
            if frameEnd > size {
                if isLast { return }  // torn: the write of the last record did not finish
                throw EtcdWALError(file: name, offset: offset, reason: "record of \(recordBytes) bytes runs past the end of the segment")
            }
            var body = [UInt8](repeating: 0, count: recordBytes + padding)
            try body.withUnsafeMutableBytes { try read($0, offset + 8) }
            do {
                try decoder.record(Array(body[0..<recordBytes]), at: (name, offset))
            } catch let e as EtcdWALError {
                if isLast && isTorn(body, fileOffset: offset + 8) { return }
                throw e
            }
            offset = frameEnd
        }
    }

    /// etcd's isTornEntry: a record whose bytes include a whole 512-byte
    /// sector (or the part of one it covers) of zeros was not fully written.
    static func isTorn(_ data: [UInt8], fileOffset: Int64) -> Bool {
        var at = 0
        var fileAt = fileOffset
        while at < data.count {
            let chunk = min(Int(512 - fileAt % 512), data.count - at)
            if data[at..<(at + chunk)].allSatisfy({ $0 == 0 }) { return true }
            at += chunk
            fileAt += Int64(chunk)
        }
        return false
    }

    private static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                throw EtcdWALError(file: path, offset: offset + Int64(done), reason: n == 0 ? "unexpected end of file" : "read: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}
