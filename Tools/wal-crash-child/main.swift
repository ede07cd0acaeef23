// Helper for the WAL kill -9 test: opens (or creates) the WAL in argv[1],
// then appends batches of 1-8 entries forever (one writer thread), printing
// "ack <index>" on stdout after each save returns (i.e. after fdatasync).
// The parent SIGKILLs it at a random moment and checks every acked entry.
#if canImport(Glibc)
import Glibc
#endif
import Raft
import WAL

setvbuf(stdout, nil, _IONBF, 0)
let args = CommandLine.arguments
guard args.count >= 2 else {
    fputs("usage: wal-crash-child <wal-dir> [segment-bytes]\n", stderr)
    exit(2)
}
let dir = args[1]
var options = WALOptions()
if args.count >= 3, let n = UInt64(args[2]) { options.segmentBytes = n }
options.logger.logLevel = .error

/// Entry payloads are a function of the index, so the parent can verify content.
func payload(_ index: UInt64) -> [UInt8] {
    (0..<(16 + Int(index % 200))).map { UInt8(truncatingIfNeeded: index &* 31 &+ UInt64($0)) }
}

let wal: WAL
var next: UInt64
do {
    if WAL.exists(dir: dir, options: options) {
        let r = try WAL.open(dir: dir, from: .zero, options: options)
        wal = r.wal
        next = (r.entries.last?.index ?? 0) + 1
    } else {
        wal = try WAL.create(dir: dir, metadata: Array("crash-child".utf8), options: options)
        next = 1
    }
} catch {
    fputs("open failed: \(error)\n", stderr)
    exit(1)
}
print("ready \(next - 1)")

// One writer thread issues the entries in index order (the WAL requires a
// contiguous log); batches of random size vary the write pattern.
var rng = SystemRandomNumberGenerator()
while true {
    let n = UInt64.random(in: 1...8, using: &rng)
    let entries = (next..<next + n).map { Entry(term: 1, index: $0, data: payload($0)) }
    do {
        try wal.save(hardState: HardState(term: 1, vote: 1, commit: next + n - 1), entries: entries)
    } catch {
        fputs("save failed: \(error)\n", stderr)
        exit(1)
    }
    print("ack \(next + n - 1)")
    next += n
}
