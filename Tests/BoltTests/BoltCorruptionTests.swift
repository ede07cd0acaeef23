import Foundation
import Support
import Testing
@testable import Bolt

/// The reader never trusts a file: seeded corruptions of valid files (one
/// written by etcd 3.5.1, with inline buckets; one of ours, with branch and
/// overflow pages) either read back or fail with a `BoltReadError` naming
/// the file and an offset inside it — never a trap, a hang or another error.
@Suite struct BoltCorruptionTests {
    static let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")

    static func etcdFile() throws -> [UInt8] {
        try [UInt8](Data(contentsOf: testdata.appendingPathComponent("etcd-3.5.1-small.db")))
    }

    static func ourFile() throws -> [UInt8] {
        var entries: [([UInt8], [UInt8])] = []
        for i in 0..<3000 { entries.append((padded(i, 7), [UInt8](repeating: UInt8(i % 251), count: i % 500 == 0 ? 9000 : 20))) }
        return try BoltRoundTripTests.write([("key", entries), ("meta", [(Array("consistent_index".utf8), [0, 0, 0, 0, 0, 0, 0, 7])]), ("lease", [])])
    }

    /// Reads every entry of every bucket; returns how many.
    @discardableResult
    static func readEverything(_ bytes: [UInt8]) throws -> Int {
        let reader = try BoltReader(BoltBytes(bytes, name: "fuzz.db"))
        var n = 0
        for bucket in try reader.buckets() {
            try reader.forEach(bucket) { _, _, _, _ in n += 1 }
        }
        return n
    }

    @Test func theEtcdFileReads() throws {
        let reader = try BoltReader(BoltBytes(try Self.etcdFile()))
        #expect(reader.meta.freelistPage == BoltFormat.noFreelist)
        #expect(try reader.buckets().map { String(decoding: $0.name, as: UTF8.self) } ==
                ["alarm", "auth", "authRoles", "authUsers", "cluster", "key", "lease", "members", "members_removed", "meta"])
        #expect(try Self.readEverything(try Self.etcdFile()) == 15)
    }

    @Test func seededCorruptionsNeverTrap() throws {
        for (name, base) in [("etcd", try Self.etcdFile()), ("ours", try Self.ourFile())] {
            let total = try Self.readEverything(base)
            var outcomes = (read: 0, refused: 0)
            for seed in UInt64(1)...1500 {
                var rng = SplitMix64(seed: seed &* 0x9E37_79B9 &+ UInt64(base.count))
                let bytes = Self.corrupt(base, &rng)
                do {
                    try Self.readEverything(bytes)
                    outcomes.read += 1
                } catch let e as BoltReadError {
                    #expect(e.file == "fuzz.db")
                    #expect(e.offset >= 0 && e.offset <= Int64(max(bytes.count, base.count)), "\(name) seed \(seed): \(e)")
                    outcomes.refused += 1
                } catch {
                    Issue.record("\(name) seed \(seed): unexpected error \(error)")
                }
            }
            #expect(total > 0)
            #expect(outcomes.refused > 100, "\(name): \(outcomes)")
        }
    }

    @Test func truncatedAtEveryPageBoundaryIsRefused() throws {
        let base = try Self.ourFile()
        for pages in 0..<(base.count / 4096) {
            let bytes = Array(base.prefix(pages * 4096))
            #expect(throws: BoltReadError.self) { try Self.readEverything(bytes) }
        }
        #expect(throws: BoltReadError.self) { try Self.readEverything(Array(base.prefix(100))) }
    }

    @Test func pagesReachedTwiceAreRefused() throws {
        var ours = try Self.ourFile()
        let ourReader = try BoltReader(BoltBytes(ours))
        let meta = ourReader.meta
        // A branch page pointing at itself: patch the key bucket root's first child to the root.
        let keyBucket = try #require(try ourReader.buckets().first { $0.name == Array("key".utf8) })
        let rootOffset = Int(keyBucket.root) * Int(meta.pageSize)
        #expect(ours[rootOffset + 8] == UInt8(BoltFormat.branchPageFlag))
        ours.withUnsafeMutableBytes { $0.storeLE(keyBucket.root, at: rootOffset + 16 + 8) }
        #expect(throws: BoltReadError.self) { try Self.readEverything(ours) }
    }

    /// 1-6 random damages: flipped bytes, 32/64-bit fields set to edge
    /// values at element-aligned offsets, truncation, a page copied over another.
    static func corrupt(_ base: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = base
        let edges: [UInt64] = [0, 1, 2, 3, 0xFF, 0xFFFF, 0xFFFF_FFFF, UInt64(bytes.count / 4096), UInt64.max, UInt64.max - 1, 1 << 31, 4096, 4080]
        for _ in 0..<(1 + Int(rng.next() % 6)) {
            guard !bytes.isEmpty else { break }
            switch rng.next() % 5 {
            case 0:
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 1, 2:
                let at = Int(rng.next() % UInt64(bytes.count / 4)) * 4
                let value = edges[Int(rng.next() % UInt64(edges.count))]
                let width = rng.next() % 2 == 0 ? 4 : 8
                for i in 0..<width where at + i < bytes.count { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            case 3:
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            default:
                let pages = bytes.count / 4096
                guard pages > 1 else { continue }
                let from = Int(rng.next() % UInt64(pages)), to = Int(rng.next() % UInt64(pages))
                bytes.replaceSubrange((to * 4096)..<((to + 1) * 4096), with: bytes[(from * 4096)..<((from + 1) * 4096)])
            }
        }
        return bytes
    }
}
