import Raft
import Support

/// Snapshot file layout (all little endian):
///
///     0..<8    magic "SWESNAP1"
///     8..<16   term
///     16..<24  index
///     24..<28  voter count V, then V × UInt64
///     ...      learner count L (UInt32), then L × UInt64
///     ...      data length D (UInt64), then D bytes of state-machine data
///     last 4   CRC-32C of everything before it
enum SnapshotCodec {
    static let magic: [UInt8] = Array("SWESNAP1".utf8)

    static func encode(_ s: Snapshot) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.u64(s.metadata.term)
        w.u64(s.metadata.index)
        w.u32(UInt32(s.metadata.confState.voters.count))
        for v in s.metadata.confState.voters { w.u64(v) }
        w.u32(UInt32(s.metadata.confState.learners.count))
        for l in s.metadata.confState.learners { w.u64(l) }
        w.u64(UInt64(s.data.count))
        w.raw(s.data)
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    /// Decodes and verifies a snapshot file; throws `.corruptSnapshot` with
    /// the offset the problem is at and the reason.
    static func decode(_ b: [UInt8], file: String) throws -> Snapshot {
        func bad(_ offset: Int, _ reason: String) -> WALError { .corruptSnapshot(file: file, offset: UInt64(offset), reason: reason) }
        guard b.count >= magic.count + 4 else { throw bad(b.count, "file too short (\(b.count) bytes)") }
        guard Array(b[0..<magic.count]) == magic else { throw bad(0, "bad magic") }
        let stored = readLE32(b, b.count - 4)
        let crc = b.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<b.count - 4])) }
        guard stored == crc else {
            throw bad(b.count - 4, "the CRC-32C stored at the end of the file (0x\(String(stored, radix: 16))) does not match " +
                      "its contents (0x\(String(crc, radix: 16)))")
        }
        var r = ByteReader(Array(b[0..<b.count - 4]), at: magic.count)
        do {
            let term = try r.u64(), index = try r.u64()
            let nv = Int(try r.u32())
            guard nv <= r.remaining / 8 else { throw bad(r.pos - 4, "voter count \(nv) too large") }
            var voters: [UInt64] = []
            for _ in 0..<nv { voters.append(try r.u64()) }
            let nl = Int(try r.u32())
            guard nl <= r.remaining / 8 else { throw bad(r.pos - 4, "learner count \(nl) too large") }
            var learners: [UInt64] = []
            for _ in 0..<nl { learners.append(try r.u64()) }
            let d = try r.u64()
            guard d == UInt64(r.remaining) else { throw bad(r.pos - 8, "data length \(d) does not match the file") }
            let data = r.rest()
            return Snapshot(metadata: SnapshotMetadata(index: index, term: term,
                                                       confState: ConfState(voters: voters, learners: learners)),
                            data: data)
        } catch is ByteReader.Short {
            throw bad(r.pos, "truncated")
        }
    }
}
