import Foundation
import Testing
@testable import MVCC

@Suite struct MapResidencyTests {
    @Test func policyWaitsForItsIntervalAndAFileWorthTrimming() {
        let policy = MapTrimPolicy(minimumUsedBytes: 1000, intervalNanos: 50, residentGrowthBytes: 4096, checkNanos: 5)
        #expect(!policy.isDue(now: 104, lastLook: 100))
        #expect(policy.isDue(now: 105, lastLook: 100))
        #expect(!policy.worthTrimming(usedBytes: 999))
        #expect(policy.worthTrimming(usedBytes: 1000))
    }

    @Test func trimsOnItsIntervalOrSoonerWhenResidencyGrew() {
        let policy = MapTrimPolicy(minimumUsedBytes: 0, intervalNanos: 50, residentGrowthBytes: 4096, checkNanos: 5)
        #expect(!policy.isTrimDue(now: 149, lastTrim: 100, resident: 10_000, residentAfterTrim: 6000))
        #expect(policy.isTrimDue(now: 149, lastTrim: 100, resident: 10_096, residentAfterTrim: 6000))
        #expect(policy.isTrimDue(now: 150, lastTrim: 100, resident: 6000, residentAfterTrim: 6000))
        // Residency unknown (no /proc): the interval alone.
        #expect(!policy.isTrimDue(now: 149, lastTrim: 100, resident: nil, residentAfterTrim: 6000))
        #expect(!policy.isTrimDue(now: 149, lastTrim: 100, resident: 1 << 40, residentAfterTrim: nil))
        // Residency that shrank (other mappings released) never trims early.
        #expect(!policy.isTrimDue(now: 120, lastTrim: 100, resident: 1000, residentAfterTrim: 6000))
    }

    @Test func readsTheSharedFieldOfStatm() {
        #expect(MapResidency.statmShared(ArraySlice("1234 567 89 10 0 300 0\n".utf8)) == 89)
        #expect(MapResidency.statmShared(ArraySlice("1234 567\n".utf8)) == nil)
        #expect(MapResidency.statmShared(ArraySlice("1 2 x3 4\n".utf8)) == nil)
        #expect(MapResidency.residentFileBytes(-1, pageBytes: 4096) == nil)
    }

    /// Growth of file-backed residency alone (no interval yet) trims the map.
    @Test func residentGrowthTrimsBeforeTheInterval() throws {
        var options = MVCCStore.Options()
        options.mapTrim = MapTrimPolicy(minimumUsedBytes: 0, intervalNanos: .max, residentGrowthBytes: 512 << 10,
                                        checkNanos: 0)
        let t = try TempStore(options: options)
        let value = String(repeating: "v", count: 700)
        t.apply((0..<2000).map { .put(PutRequest(key: b("key\($0)"), value: b(value))) })
        _ = try t.store.range(RangeRequest(key: b("key"), rangeEnd: b("kez")))
        let mapped = try #require(residentKilobytes(dataFileIn: t.dir))
        #expect(mapped >= 1000)
        try t.put("one-more", "commit")
        #expect(try #require(residentKilobytes(dataFileIn: t.dir)) < mapped / 10)
    }

    @Test func findsTheDataFileInProcMaps() {
        let line = "7f0000000000-7f1000000000 r--s 00000000 fd:01 123456                     /var/lib/my etcd/data.mdb\n"
        #expect(MapResidency.mappingRange(line, inode: 123456) == 0x7f00_0000_0000..<0x7f10_0000_0000)
        #expect(MapResidency.mappingRange(line, inode: 123457) == nil)
        #expect(MapResidency.mappingRange(line.replacingOccurrences(of: " 00000000 ", with: " 00001000 "), inode: 123456) == nil)
        #expect(MapResidency.mappingRange(line.replacingOccurrences(of: "data.mdb", with: "lock.mdb"), inode: 123456) == nil)
        #expect(MapResidency.mappingRange("", inode: 0) == nil)
    }

    /// A commit unmaps what reads had mapped; the data is all still there.
    @Test func commitsTrimTheMapAndReadsStillSeeEverything() throws {
        var options = MVCCStore.Options()
        options.mapTrim = MapTrimPolicy(minimumUsedBytes: 0, intervalNanos: 0, checkNanos: 0)
        let t = try TempStore(options: options)
        let value = String(repeating: "v", count: 700)
        t.apply((0..<2000).map { .put(PutRequest(key: b("key\($0)"), value: b(value))) })
        func readAll() throws {
            let r = try t.store.range(RangeRequest(key: b("key"), rangeEnd: b("kez")))
            #expect(r.kvs.count == 2000)
            #expect(r.kvs.allSatisfy { $0.value == b(value) })
        }
        try readAll()
        let mapped = try #require(residentKilobytes(dataFileIn: t.dir))
        #expect(mapped >= 1000)  // 2000 × 700-byte values were read through the map
        try t.put("one-more", "commit")
        #expect(try #require(residentKilobytes(dataFileIn: t.dir)) < mapped / 10)
        try readAll()
    }

    /// Resident kilobytes of this process's mapping of `dir`/data.mdb (smaps "Rss:").
    func residentKilobytes(dataFileIn dir: String) -> Int? {
        var st = stat()
        guard stat(dir + "/data.mdb", &st) == 0 else { return nil }
        var inMapping = false
        for line in procLines("/proc/self/smaps") {
            guard let first = line.split(separator: " ").first else { continue }
            if !first.hasSuffix(":") {  // a mapping's header line, "start-end perms offset dev inode path"
                inMapping = MapResidency.mappingRange(String(line), inode: UInt64(st.st_ino)) != nil
            } else if inMapping, first == "Rss:" {
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
            }
        }
        return nil
    }

    /// Every line of a /proc file (Foundation's whole-file reads stop at the
    /// first page of these size-0 files).
    func procLines(_ path: String) -> [Substring] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var lines: [Substring] = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            lines.append(Substring(String(cString: line).dropLast()))
        }
        return lines
    }
}
