#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads one segment file's frames through a bounded window, so recovery
/// holds about `chunkBytes` of a segment in memory (more only while one
/// record is larger), whatever the segment's size.
///
/// The window always starts at a 4 KiB-aligned file offset: the torn-write
/// check (`RecordCodec.hasZeroSector`) looks at 512-byte sectors by their
/// index in the buffer, which must be their place in the file. A frame may
/// cross a chunk boundary: before decoding, the window is refilled from the
/// frame's start to hold the whole frame (or up to the end of the file,
/// which the decoder then reports as a torn tail without reading it).
struct SegmentScanner {
    let fs: any WALFileSystem
    let path: String
    let size: UInt64
    let chunkBytes: Int
    /// File offset of `window[0]`; a multiple of `alignBytes`.
    private var base: UInt64 = 0
    private var window: [UInt8] = []
    static let alignBytes: UInt64 = 4096

    init(fs: any WALFileSystem, path: String, chunkBytes: Int) throws {
        self.fs = fs
        self.path = path
        self.size = try fs.fileSize(path)
        self.chunkBytes = max(1, chunkBytes)
    }

    /// The frame at `offset` (8-byte aligned); `next` in the result is a file offset.
    mutating func decode(at offset: UInt64) throws -> RecordCodec.Decoded {
        try load(offset, RecordCodec.headerBytes)
        var frameBytes = RecordCodec.headerBytes
        let local = Int(offset - base)
        if local + 8 <= window.count, let frame = RecordCodec.frameBytes(lengthField: readLE64(window, local)) {
            frameBytes = frame
        }
        // A frame running past the end of the file is reported from its
        // length field alone: never load a bogus length's worth of segment.
        if UInt64(frameBytes) <= size - min(offset, size) { try load(offset, frameBytes) }
        let at = Int(offset - base)
        switch RecordCodec.decode(window, at: at, end: Int(size - base)) {
        case .record(let r, let next): return .record(r, next: Int(base) + next)
        case let other: return other
        }
    }

    /// The offset of the first non-zero byte at or after `offset`, nil if
    /// the rest of the file is zero; reads it a chunk at a time.
    mutating func firstNonZero(from offset: UInt64) throws -> UInt64? {
        var at = offset
        while at < size {
            try load(at, chunkBytes)
            let local = Int(at - base)
            if let hit = RecordCodec.firstNonZero(window, from: local) { return base + UInt64(hit) }
            at = base + UInt64(window.count)
        }
        return nil
    }

    /// Makes the window hold `[offset, offset + count)` (clipped at the end
    /// of the file), reading from `offset` rounded down to `alignBytes` at
    /// least `chunkBytes`.
    private mutating func load(_ offset: UInt64, _ count: Int) throws {
        let end = min(size, offset + UInt64(count))
        if offset >= base && end <= base + UInt64(window.count) { return }
        let start = offset / Self.alignBytes * Self.alignBytes
        let want = Int(min(size, max(end, start + UInt64(chunkBytes))) - start)
        // Reuse the window's memory: a fresh buffer per chunk cost a page
        // fault per 4 KiB, more than reading the bytes.
        if window.count > want {
            window.removeLast(window.count - want)
        } else {
            window.append(contentsOf: repeatElement(0, count: want - window.count))
        }
        let got = try window.withUnsafeMutableBytes { try fs.read(path, at: start, into: $0) }
        base = start
        if got < want {
            throw WALError.io(op: "read (the file shrank while being read)", path: path, errno: EIO)
        }
    }
}
