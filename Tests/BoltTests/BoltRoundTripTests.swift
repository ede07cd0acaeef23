import Support
import Testing
@testable import Bolt

/// Files the writer makes read back through the reader, entry for entry.
@Suite struct BoltRoundTripTests {
    typealias Buckets = [(name: String, entries: [([UInt8], [UInt8])])]

    /// Plans, writes and returns the file for `buckets` (entries sorted here).
    static func write(_ buckets: Buckets, pageSize: Int = 4096) throws -> [UInt8] {
        let sorted = buckets.map { ($0.name, $0.entries.sorted { $0.0.lexicographicallyPrecedes($1.0) }) }
            .sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var planner = try BoltFileWriter(planning: sorted.map { Array($0.0.utf8) }, pageSize: pageSize)
        var none: [UInt8] = []
        for (name, entries) in sorted {
            try planner.beginBucket(Array(name.utf8))
            for (k, v) in entries {
                try k.withUnsafeBytes { try planner.add(key: $0, value: nil, valueBytes: v.count, out: &none) }
            }
            try planner.endBucket(out: &none)
        }
        #expect(none.isEmpty)
        let layout = try planner.finish()
        var out: [UInt8] = []
        var writer = try BoltFileWriter(writing: layout, out: &out)
        for (name, entries) in sorted {
            try writer.beginBucket(Array(name.utf8))
            for (k, v) in entries { try writer.add(key: k, value: v, out: &out) }
            try writer.endBucket(out: &out)
        }
        #expect(try writer.finish() == layout)
        #expect(Int64(out.count) == layout.sizeBytes)
        return out
    }

    static func readAll(_ bytes: [UInt8]) throws -> [String: [([UInt8], [UInt8])]] {
        let reader = try BoltReader(BoltBytes(bytes))
        var result: [String: [([UInt8], [UInt8])]] = [:]
        for bucket in try reader.buckets() {
            var entries: [([UInt8], [UInt8])] = []
            try reader.forEach(bucket) { k, v, flags, _ in
                #expect(flags == 0)
                entries.append((Array(k), Array(v)))
            }
            result[String(decoding: bucket.name, as: UTF8.self)] = entries
        }
        return result
    }

    static func expectSame(_ buckets: Buckets, _ read: [String: [([UInt8], [UInt8])]]) {
        #expect(Set(read.keys) == Set(buckets.map(\.name)))
        for (name, entries) in buckets {
            let want = entries.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            let got = read[name] ?? []
            #expect(got.count == want.count, "bucket \(name)")
            for (g, w) in zip(got, want) where g.0 != w.0 || g.1 != w.1 {
                Issue.record("bucket \(name): entry \(g.0) differs from \(w.0)")
                return
            }
        }
    }

    @Test func emptyBucketsAndEmptyFile() throws {
        let none = try Self.write([])
        #expect(none.count == 3 * 4096)  // two metas and an empty root leaf
        #expect(try Self.readAll(none).isEmpty)
        let buckets: Buckets = [("key", []), ("meta", []), ("alarm", [])]
        Self.expectSame(buckets, try Self.readAll(try Self.write(buckets)))
    }

    @Test func manySmallEntriesMakeBranchLevels() throws {
        var rng = SplitMix64(seed: 7)
        let entries = (0..<50_000).map { i -> ([UInt8], [UInt8]) in
            (padded(i, 8), (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        let buckets: Buckets = [("key", entries), ("meta", [(Array("consistent_index".utf8), [0, 0, 0, 0, 0, 0, 0, 9])])]
        let file = try Self.write(buckets)
        Self.expectSame(buckets, try Self.readAll(file))
    }

    @Test func largeValuesBecomeOverflowPages() throws {
        let big = [UInt8](repeating: 0xAB, count: 3 * 4096 + 17)
        let huge = [UInt8](repeating: 0xCD, count: 1_500_000)
        var entries: [([UInt8], [UInt8])] = [([1], big), ([2], []), ([3], huge), ([4], [5])]
        for i in 5..<300 { entries.append(([UInt8(i % 256), UInt8(i / 256)], [UInt8](repeating: 1, count: 600))) }
        let buckets: Buckets = [("key", entries)]
        Self.expectSame(buckets, try Self.readAll(try Self.write(buckets)))
    }

    @Test func longKeysOnBranchPages() throws {
        // Keys over a quarter page make branch pages hold few children.
        let entries = (0..<400).map { i -> ([UInt8], [UInt8]) in
            (Array(String(repeating: "k", count: 1500).utf8) + padded(i, 5), [UInt8(i % 256)])
        }
        let buckets: Buckets = [("key", entries)]
        Self.expectSame(buckets, try Self.readAll(try Self.write(buckets)))
    }

    @Test func otherPageSizes() throws {
        for size in [1024, 16384] {
            let entries = (0..<3000).map { i in (padded(i, 6), Array("v\(i)".utf8)) }
            let buckets: Buckets = [("a", entries), ("b", [([0], [1])])]
            Self.expectSame(buckets, try Self.readAll(try Self.write(buckets, pageSize: size)))
        }
    }

    @Test func writingOtherDataThanPlannedIsCaught() throws {
        var planner = try BoltFileWriter(planning: [Array("key".utf8)])
        var none: [UInt8] = []
        try planner.beginBucket(Array("key".utf8))
        for i in 0..<1000 { try [UInt8(i % 256), UInt8(i / 256)].withUnsafeBytes { try planner.add(key: $0, value: nil, valueBytes: 10, out: &none) } }
        try planner.endBucket(out: &none)
        let layout = try planner.finish()
        var out: [UInt8] = []
        var writer = try BoltFileWriter(writing: layout, out: &out)
        try writer.beginBucket(Array("key".utf8))
        for i in 0..<1000 { try writer.add(key: [UInt8(i % 256), UInt8(i / 256)], value: [UInt8](repeating: 0, count: 20), out: &out) }
        #expect(throws: BoltWriteError.layoutChanged(bucket: "key")) { try writer.endBucket(out: &out) }
    }
}

/// `i` in decimal, zero padded to `width` digits.
func padded(_ i: Int, _ width: Int) -> [UInt8] {
    let digits = String(i)
    return Array((String(repeating: "0", count: max(0, width - digits.count)) + digits).utf8)
}
