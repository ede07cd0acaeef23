// wal-bench: the serial fsync floor (4 KiB pwrite + fdatasync per second) on
// the data disk, then WAL appends of 256-byte entries with 1, 10 and 100
// concurrent appenders, each waiting for durability. The last line gives the
// 100-appender rate as a multiple of the floor (group commit).
//
// usage: wal-bench [data-dir] [seconds-per-phase]
import Foundation
import Raft
import WAL

let args = CommandLine.arguments
let dataDir = args.count > 1 ? args[1] : ".build/wal-bench-data"
let seconds = args.count > 2 ? Double(args[2]) ?? 3 : 3

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ msg: String) -> Never {
    fputs("wal-bench: \(msg)\n", stderr)
    exit(1)
}

try? FileManager.default.removeItem(atPath: dataDir)
try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dataDir) }

/// Serial floor: sequential 4 KiB writes into a preallocated file, each followed by fdatasync.
func serialFloor() -> Double {
    let path = dataDir + "/floor.dat"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    if fd < 0 { fail("open \(path): errno \(errno)") }
    defer { close(fd); unlink(path) }
    let fileBytes = 64 * 1024 * 1024
    _ = posix_fallocate(fd, 0, off_t(fileBytes))
    fsync(fd)
    let block = [UInt8](repeating: 0xAB, count: 4096)
    var n = 0
    let start = now()
    while now() - start < seconds {
        let off = off_t((n * 4096) % fileBytes)
        let w = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off) }
        if w != 4096 { fail("pwrite: errno \(errno)") }
        if fdatasync(fd) != 0 { fail("fdatasync: errno \(errno)") }
        n += 1
    }
    return Double(n) / (now() - start)
}

/// `appenders` threads each append 256-byte entries until the deadline, every
/// append waiting until durable. Returns appends per second (all threads).
func walRate(appenders: Int) throws -> Double {
    let dir = dataDir + "/wal-\(appenders)"
    var opts = WALOptions()
    opts.logger.logLevel = .error
    let wal = try WAL.create(dir: dir, metadata: Array("wal-bench".utf8), options: opts)
    let data = [UInt8](repeating: 0x5A, count: 256)
    /// Per-thread counters; each thread writes only its own slot, read after `done.wait()`.
    final class Counts: @unchecked Sendable { var values: [Int]; init(_ n: Int) { values = Array(repeating: 0, count: n) } }
    let counts = Counts(appenders)
    let done = DispatchGroup()
    let start = now()
    let deadline = start + seconds
    for t in 0..<appenders {
        done.enter()
        let thread = Thread {
            var n = 0
            while now() < deadline {
                do { try wal.appendEntry(term: 1, data: data) } catch { fail("append: \(error)") }
                n += 1
            }
            counts.values[t] = n
            done.leave()
        }
        thread.stackSize = 512 * 1024
        thread.start()
    }
    done.wait()
    let elapsed = now() - start
    try wal.close()
    try? FileManager.default.removeItem(atPath: dir)
    return Double(counts.values.reduce(0, +)) / elapsed
}

func fmt(_ v: Double) -> String { String(format: "%.0f", v) }
func ratio(_ v: Double) -> String { String(format: "%.2f", v) }

print("wal-bench: data dir \(dataDir), \(seconds) s per phase")
let floor = serialFloor()
print("serial floor (4 KiB write + fdatasync): \(fmt(floor)) /s")
var last = 0.0
for n in [1, 10, 100] {
    let r = try walRate(appenders: n)
    print("WAL 256 B appends, \(n) appender\(n == 1 ? "" : "s"): \(fmt(r)) appends/s (\(ratio(r / floor))x floor)")
    last = r
}
print("100 appenders = \(ratio(last / floor))x the serial fsync floor (goal >= 20x)")
