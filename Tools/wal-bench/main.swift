// wal-bench: the serial fsync floor (4 KiB pwrite + fdatasync per second) on
// the data disk, then WAL appends of 256-byte entries with 1, 10 and 100
// concurrent appenders, each waiting for durability. The last line gives the
// 100-appender rate as a multiple of the floor (group commit).
//
// The disk is shared and fsync latency drifts, so the floor and the
// 1-appender run are measured in alternating short rounds and summed; the
// ratio between them is then fair even when the absolute numbers move.
//
// usage: wal-bench [data-dir] [seconds-per-phase]
import Foundation
import Raft
import Support
import WAL

let args = CommandLine.arguments
let dataDir = args.count > 1 ? args[1] : ".build/wal-bench-data"
let seconds = args.count > 2 ? Double(args[2]) ?? 3 : 3
let rounds = 6

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ msg: String) -> Never {
    fputs("wal-bench: \(msg)\n", stderr)
    exit(1)
}

/// Counts and seconds accumulated over rounds.
struct Tally {
    var count = 0
    var seconds = 0.0
    var rate: Double { Double(count) / seconds }
    mutating func add(_ c: Int, _ s: Double) { count += c; seconds += s }
}

/// Sequential 4 KiB writes into a preallocated file, each followed by
/// fdatasync. With `prefill`, the file is first filled with data, so no fsync
/// has to convert unwritten extents: the bare device flush rate.
final class FloorFile {
    let fd: Int32
    let path: String
    let fileBytes = 64 * 1024 * 1024
    var next = 0
    let block = [UInt8](repeating: 0xAB, count: 4096)

    init(name: String, prefill: Bool) {
        path = dataDir + "/" + name
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        if fd < 0 { fail("open \(path): errno \(errno)") }
        _ = posix_fallocate(fd, 0, off_t(fileBytes))
        if prefill {
            let chunk = [UInt8](repeating: 0x11, count: 1 << 20)
            for i in 0..<(fileBytes >> 20) { _ = chunk.withUnsafeBytes { pwrite(fd, $0.baseAddress, chunk.count, off_t(i << 20)) } }
        }
        fsync(fd)
    }

    deinit { close(fd); unlink(path) }

    func run(for duration: Double) -> (Int, Double) {
        var n = 0
        let start = now()
        while now() - start < duration {
            let w = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t(next)) }
            if w != 4096 { fail("pwrite: errno \(errno)") }
            if fdatasync(fd) != 0 { fail("fdatasync: errno \(errno)") }
            next = (next + 4096) % fileBytes
            n += 1
        }
        return (n, now() - start)
    }
}

/// Per-thread counters; each thread writes only its own slot, read after the join.
final class Counts: @unchecked Sendable {
    var values: [Int]
    init(_ n: Int) { values = Array(repeating: 0, count: n) }
}

func makeWAL(_ name: String) -> WAL {
    var opts = WALOptions()
    opts.logger.logLevel = .error
    do { return try WAL.create(dir: dataDir + "/" + name, metadata: Array("wal-bench".utf8), options: opts) } catch {
        fail("create: \(error)")
    }
}

/// `appenders` threads each append 256-byte entries for `duration`, every
/// append waiting until durable. Returns (appends, seconds).
func runWAL(_ wal: WAL, appenders: Int, for duration: Double) -> (Int, Double) {
    let data = [UInt8](repeating: 0x5A, count: 256)
    let counts = Counts(appenders)
    let finished = (0 ..< appenders).map { _ in Latch() }
    let start = now()
    let deadline = start + duration
    for t in 0..<appenders {
        let thread = Thread {
            var n = 0
            while now() < deadline {
                do { try wal.appendEntry(term: 1, data: data) } catch { fail("append: \(error)") }
                n += 1
            }
            counts.values[t] = n
            finished[t].open()
        }
        thread.stackSize = 512 * 1024
        thread.start()
    }
    finished.forEach { $0.wait() }
    return (counts.values.reduce(0, +), now() - start)
}

func fmt(_ v: Double) -> String { String(format: "%.0f", v) }
func ratio(_ v: Double) -> String { String(format: "%.2f", v) }

try? FileManager.default.removeItem(atPath: dataDir)
try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
print("wal-bench: data dir \(dataDir), \(seconds) s per phase")

var floor = Tally(), bare = Tally(), one = Tally()
do {
    let fresh = FloorFile(name: "floor.dat", prefill: false)
    let written = FloorFile(name: "floor-written.dat", prefill: true)
    let wal = makeWAL("wal-1")
    let slice = seconds / Double(rounds)
    for _ in 0..<rounds {
        let f = fresh.run(for: slice); floor.add(f.0, f.1)
        let b = written.run(for: slice); bare.add(b.0, b.1)
        let w = runWAL(wal, appenders: 1, for: slice); one.add(w.0, w.1)
    }
    try? wal.close()
}
print("serial floor (4 KiB write + fdatasync): \(fmt(floor.rate)) /s")
print("  (reference: 4 KiB overwrite of already-written blocks + fdatasync: \(fmt(bare.rate)) /s)")
print("WAL 256 B appends, 1 appender: \(fmt(one.rate)) appends/s (\(ratio(one.rate / floor.rate))x floor)")
var last = 0.0
for n in [10, 100] {
    let wal = makeWAL("wal-\(n)")
    let (c, s) = runWAL(wal, appenders: n, for: seconds)
    try? wal.close()
    last = Double(c) / s
    print("WAL 256 B appends, \(n) appenders: \(fmt(last)) appends/s (\(ratio(last / floor.rate))x floor)")
}
try? FileManager.default.removeItem(atPath: dataDir)
print("100 appenders = \(ratio(last / floor.rate))x the serial fsync floor (goal >= 20x; \(ratio(last / bare.rate))x the overwrite rate)")
