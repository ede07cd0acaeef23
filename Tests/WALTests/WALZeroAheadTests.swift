import Foundation
import Raft
import Testing
@testable import WAL

/// `WALOptions.zeroAheadBytes`: the writer keeps zeros written ahead of its
/// offset so a batch's fdatasync lands on written space, never writes them
/// over a record, and recovery reads exactly what was saved.
@Suite struct WALZeroAheadTests {
    /// Records every file write (path, offset, length, all zeros?) and sync,
    /// in order, on top of the in-memory file system.
    final class RecordingFileSystem: ForwardingFileSystem, @unchecked Sendable {
        enum Event: Equatable {
            case write(path: String, offset: UInt64, count: Int, zeros: Bool)
            case sync(path: String)
        }
        private let lock = NSLock()
        private var recorded: [Event] = []
        var events: [Event] { lock.withLock { recorded } }
        init(_ base: FaultyFileSystem) { super.init(base) }
        func record(_ e: Event) { lock.withLock { recorded.append(e) } }
        override func wrap(_ file: any WALFile, path: String) -> any WALFile { File(file, path: path, fs: self) }

        final class File: ForwardingFile {
            let path: String
            unowned let fs: RecordingFileSystem
            init(_ base: any WALFile, path: String, fs: RecordingFileSystem) {
                (self.path, self.fs) = (path, fs)
                super.init(base)
            }
            override func write(_ bytes: [UInt8], at offset: UInt64) throws {
                fs.record(.write(path: path, offset: offset, count: bytes.count, zeros: bytes.allSatisfy { $0 == 0 }))
                try base.write(bytes, at: offset)
            }
            override func sync() throws { fs.record(.sync(path: path)); try base.sync() }
        }
    }

    static let segmentBytes: UInt64 = 64 * 1024
    static let zeroAhead = 8000  // not a sector multiple; larger than any batch here

    func options(_ fs: RecordingFileSystem, zeroAhead: Int = zeroAhead) -> WALOptions {
        var o = WALOptions(segmentBytes: Self.segmentBytes, maxSegments: 100, fileSystem: fs)
        o.readChunkBytes = 600
        o.logger.logLevel = .critical
        o.zeroAheadBytes = zeroAhead
        return o
    }

    /// Batches of 1 to 9 entries of 10 to 700 bytes, over several segment cuts.
    func saveBatches(_ wal: WAL, from first: UInt64, count: Int) throws -> UInt64 {
        var next = first
        for b in 0..<count {
            let n = UInt64(1 + b % 9)
            let batch = (next..<(next + n)).map { Entry(term: 1, index: $0, data: payload($0, size: 10 + Int($0 * 37 % 691))) }
            try wal.save(hardState: HardState(term: 1, vote: 1, commit: next + n - 1), entries: batch)
            next += n
        }
        return next - 1
    }

    @Test func zerosStayAheadOfRecordsAndNeverOverwriteThem() throws {
        let fs = RecordingFileSystem(FaultyFileSystem())
        let wal = try WAL.create(dir: walDir, metadata: [7], options: options(fs))
        let last = try saveBatches(wal, from: 1, count: 400)
        try wal.close()

        // Per segment: where records end and how far zeros reach.
        var recordsEnd: [String: UInt64] = [:], zeroedTo: [String: UInt64] = [:]
        var dataWrites = 0, dataWritesIntoZeros = 0, zeroWrites = 0
        // A segment is written through the file opened as its temp name.
        for case .write(let path, let offset, let count, let zeros) in fs.events where path.hasSuffix(".wal.tmp") {
            let end = offset + UInt64(count)
            if zeros {
                zeroWrites += 1
                #expect(offset >= recordsEnd[path, default: 0], "zeros written over a record at \(offset) in \(path)")
                #expect(end <= Self.segmentBytes, "zeros past the preallocated size")
                zeroedTo[path] = max(zeroedTo[path, default: 0], end)
            } else if offset > 0 {  // offset 0: a new segment's head, written before any zeros
                dataWrites += 1
                if end <= zeroedTo[path, default: 0] { dataWritesIntoZeros += 1 }
                recordsEnd[path] = max(recordsEnd[path, default: 0], end)
            }
        }
        #expect(recordsEnd.count >= 3, "the batches cross segment cuts")
        #expect(zeroWrites > 0)
        // Only a segment's first batch and batches larger than the chunk may
        // land on space not zeroed yet; most land on zeros.
        #expect(dataWritesIntoZeros * 10 >= dataWrites * 7, "\(dataWritesIntoZeros) of \(dataWrites) batches landed on zeros")

        let r = try WAL.open(dir: walDir, from: .zero, options: options(fs))
        #expect(r.entries.count == Int(last))
        #expect(r.entries.map(\.index) == Array(1...last))
        #expect(r.entries.allSatisfy { $0.data == payload($0.index, size: 10 + Int($0.index * 37 % 691)) })
        #expect(r.wal.repairs.isEmpty)
        try r.wal.close()
    }

    /// Zeros ride with the batch's own fsync: no extra syncs, and a crash at
    /// any point recovers a prefix holding every batch whose save returned.
    @Test func zeroingAddsNoSyncAndSurvivesACrashAnywhere() throws {
        let plain = RecordingFileSystem(FaultyFileSystem())
        let zeroed = RecordingFileSystem(FaultyFileSystem())
        for (fs, ahead) in [(plain, 0), (zeroed, Self.zeroAhead)] {
            let wal = try WAL.create(dir: walDir, metadata: [7], options: options(fs, zeroAhead: ahead))
            _ = try saveBatches(wal, from: 1, count: 120)
            try wal.close()
        }
        func syncs(_ fs: RecordingFileSystem) -> Int { fs.events.filter { if case .sync = $0 { true } else { false } }.count }
        #expect(syncs(plain) == syncs(zeroed))
        #expect(plain.events.contains { if case .write(_, _, _, true) = $0 { true } else { false } } == false)

        for crashAt in stride(from: 5, through: 400, by: 31) {
            let faulty = FaultyFileSystem()
            faulty.crashAfterOps = crashAt
            let fs = RecordingFileSystem(faulty)
            var acknowledged: UInt64 = 0
            if let wal = try? WAL.create(dir: walDir, metadata: [7], options: options(fs)) {
                var next: UInt64 = 1
                for b in 0..<120 {
                    let n = UInt64(1 + b % 9)
                    let batch = (next..<(next + n)).map { Entry(term: 1, index: $0, data: payload($0, size: 10 + Int($0 * 37 % 691))) }
                    do { try wal.save(hardState: nil, entries: batch) } catch { break }
                    acknowledged = next + n - 1
                    next += n
                }
            }
            faulty.crash(seed: UInt64(crashAt))
            guard WAL.exists(dir: walDir, options: options(fs)) else {
                #expect(acknowledged == 0)
                continue
            }
            let r = try WAL.open(dir: walDir, from: .zero, options: options(fs))
            #expect(r.entries.count >= Int(acknowledged), "crash after op \(crashAt)")
            #expect(r.entries.map(\.index) == Array(stride(from: 1, through: UInt64(r.entries.count), by: 1)))
            try r.wal.close()
        }
    }
}
