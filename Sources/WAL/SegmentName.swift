/// A segment file name: `%016x-%016x.wal` of (sequence, first index), so that
/// names sort in log order. The first index is the index the next entry was
/// expected to have when the segment was cut (0 for the very first segment).
struct SegmentName: Comparable, Hashable, CustomStringConvertible {
    var sequence: UInt64
    var firstIndex: UInt64

    var description: String { SegmentName.hex16(sequence) + "-" + SegmentName.hex16(firstIndex) + ".wal" }

    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Parses a `.wal` name; nil for anything else (temp files, strangers).
    static func parse(_ name: String) -> SegmentName? {
        guard name.hasSuffix(".wal") else { return nil }
        let stem = name.dropLast(4)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 16,
              let seq = UInt64(parts[0], radix: 16), let idx = UInt64(parts[1], radix: 16) else { return nil }
        return SegmentName(sequence: seq, firstIndex: idx)
    }

    static func < (a: SegmentName, b: SegmentName) -> Bool { a.sequence < b.sequence }
}
