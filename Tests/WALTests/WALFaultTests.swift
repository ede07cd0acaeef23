import Raft
import Testing
@testable import WAL

/// Crash and I/O-failure schedules on `FaultyFileSystem`.
@Suite struct WALFaultTests {
    /// Entry sizes vary so records span 512-byte sectors and can be torn.
    static func entry(_ i: UInt64) -> Entry {
        Entry(term: 1 + i / 25, index: i, data: payload(i, size: Int(i % 5 == 0 ? 900 : 40 + i % 60)))
    }

    static let total: UInt64 = 45
    static let snapAt: UInt64 = 20

    /// The scripted workload: create, append one entry per save with a hard
    /// state, take a snapshot marker and release segments midway. Returns the
    /// highest acknowledged index (0 if none) and stops at the first error.
    static func workload(_ fs: FaultyFileSystem) -> UInt64 {
        var acked: UInt64 = 0
        do {
            let wal = try WAL.create(dir: walDir, metadata: [5], options: memOptions(fs, segmentBytes: 2048, maxSegments: 2))
            for i in 1...total {
                try wal.save(hardState: HardState(term: 1 + i / 25, vote: 1, commit: i), entries: [entry(i)])
                acked = i
                if i == snapAt {
                    try wal.saveSnapshotMarker(WALSnapshotMarker(index: snapAt, term: 1))
                    try wal.releaseSegments(before: snapAt)
                }
            }
            try wal.close()
        } catch {
            // The process "died" (or the WAL refused): later writes all fail.
        }
        return acked
    }

    /// Recovers after a crash and checks the log is exactly a prefix of what
    /// was written that includes every acknowledged entry; then proves the
    /// recovered WAL accepts appends.
    /// Returns whether a torn tail was repaired and whether unacknowledged entries survived.
    @discardableResult
    static func checkRecovery(_ fs: FaultyFileSystem, acked: UInt64, context: Comment) throws -> (repaired: Bool, extra: Bool) {
        let opts = memOptions(fs, segmentBytes: 2048, maxSegments: 2)
        guard WAL.exists(dir: walDir, options: opts) else {
            #expect(acked == 0, context)
            return (false, false)
        }
        let marker = try WAL.validSnapshotMarkers(dir: walDir, options: opts).last!
        let r = try WAL.open(dir: walDir, from: marker, options: opts)
        let expected = (marker.index + 1..<marker.index + 1 + UInt64(r.entries.count)).map(entry)
        #expect(r.entries == expected, context)
        let last = marker.index + UInt64(r.entries.count)
        #expect(last >= acked, context)
        #expect(r.hardState.commit <= last, context)
        #expect(r.metadata == [5], context)
        try r.wal.save(hardState: nil, entries: [entry(last + 1)])
        try r.wal.close()
        let again = try WAL.open(dir: walDir, from: marker, options: opts)
        #expect(again.entries == expected + [entry(last + 1)], context)
        #expect(again.wal.repairs.isEmpty, context)
        return (!r.wal.repairs.isEmpty, last > acked)
    }

    @Test func everyCrashPointRecoversAPrefixWithAllAcked() throws {
        let probe = FaultyFileSystem()
        #expect(Self.workload(probe) == Self.total)
        let ops = probe.mutatingOps
        #expect(ops > 100)
        var repaired = 0, extra = 0
        for crashAt in 0...ops {
            for seed in 0..<3 as Range<UInt64> {
                let fs = FaultyFileSystem()
                fs.crashAfterOps = crashAt
                let acked = Self.workload(fs)
                fs.crash(seed: seed &* 7919 &+ UInt64(crashAt))
                let r = try Self.checkRecovery(fs, acked: acked, context: "crashAt=\(crashAt) seed=\(seed) acked=\(acked)")
                if r.repaired { repaired += 1 }
                if r.extra { extra += 1 }
            }
        }
        // The schedule really produced torn tails and unacknowledged survivors.
        #expect(repaired > 10)
        #expect(extra > 10)
    }

    @Test func crashWithoutFailureInjectionLosesOnlyUnsynced() throws {
        // Crash at the end (everything acked) under many seeds: nothing is lost.
        for seed in 0..<20 as Range<UInt64> {
            let fs = FaultyFileSystem()
            let acked = Self.workload(fs)
            fs.crash(seed: seed)
            try Self.checkRecovery(fs, acked: acked, context: "seed=\(seed)")
        }
    }

    @Test func fsyncFailurePoisonsTheWAL() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 1 << 20)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        try wal.save(hardState: nil, entries: entries(1...3))
        fs.failSyncNumber = fs.syncCalls + 1
        #expect(throws: WALError.self) { try wal.save(hardState: nil, entries: entries(4...4)) }
        // Never retry: the failed pages may be gone, a second fsync would lie.
        for i in 5...7 as ClosedRange<UInt64> {
            #expect {
                try wal.save(hardState: nil, entries: entries(i...i))
            } throws: { e in
                guard case WALError.fsyncFailed(let why) = e else { return false }
                return why.contains("fdatasync")
            }
        }
        #expect(throws: WALError.self) { try wal.saveSnapshotMarker(WALSnapshotMarker(index: 3, term: 1)) }
        #expect(throws: WALError.self) { try wal.appendEntry(term: 1, data: []) }
        fs.crash(seed: 1)
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(Array(r.entries.prefix(3)) == entries(1...3))
        #expect(r.entries.count <= 4)
    }

    @Test func enospcOnSegmentCutPoisonsWithClearError() throws {
        let fs = FaultyFileSystem()
        let opts = memOptions(fs, segmentBytes: 2048)
        let wal = try WAL.create(dir: walDir, metadata: [], options: opts)
        fs.capacityBytes = 2048 + 1024
        var acked: UInt64 = 0
        var failure: WALError?
        for i in 1...100 as ClosedRange<UInt64> {
            do {
                try wal.save(hardState: nil, entries: entries(i...i))
                acked = i
            } catch let e as WALError {
                failure = e
                break
            }
        }
        let f = try #require(failure)
        #expect("\(f)".contains("No space left"), "\(f)")
        #expect(throws: WALError.self) { try wal.save(hardState: nil, entries: entries(acked + 1...acked + 1)) }
        fs.capacityBytes = nil
        fs.crash(seed: 3)
        let r = try WAL.open(dir: walDir, from: .zero, options: opts)
        #expect(r.entries.count >= Int(acked))
        #expect(Array(r.entries.prefix(Int(acked))) == entries(1...acked))
    }

    @Test func unsyncedCreateMayVanishButNeverHalfExists() throws {
        for seed in 0..<30 as Range<UInt64> {
            let fs = FaultyFileSystem()
            fs.crashAfterOps = 4
            _ = try? WAL.create(dir: walDir, metadata: [1], options: memOptions(fs))
            fs.crash(seed: seed)
            if WAL.exists(dir: walDir, options: memOptions(fs)) {
                let r = try WAL.open(dir: walDir, from: .zero, options: memOptions(fs))
                #expect(r.metadata == [1])
            }
        }
    }
}
