import Foundation
import MVCC
import Support

/// MVCC store benchmark: `mvcc-bench [keys] [dir]` (or `mvcc-bench listpages [rounds]`). Prints ops/s per
/// workload, peak RSS and data size. Run from scripts/bench-mvcc.sh (release).

setvbuf(stdout, nil, _IOLBF, 0)
// `mvcc-bench verify DIR N`: after a kill -9 of `mvcc-bench N DIR keep`, checks
// that the reopened store is consistent: one revision and one Raft index per
// put, every key present.
if CommandLine.arguments.count > 2 && CommandLine.arguments[1] == "verify" {
    let s = try MVCCStore(path: CommandLine.arguments[2])
    let all = try s.range(RangeRequest(key: [0], rangeEnd: [0], countOnly: true))
    let loaded = CommandLine.arguments.count > 3 ? Int64(CommandLine.arguments[3])! : Int64.max
    let ok = s.consistentIndex == UInt64(s.currentRevision - 1) && all.count == min(s.currentRevision - 1, loaded)
    print("revision \(s.currentRevision) consistentIndex \(s.consistentIndex) keys \(all.count): \(ok ? "consistent" : "INCONSISTENT")")
    exit(ok ? 0 : 1)
}
// `mvcc-bench listpages [rounds]`: the k8s benchmark's paginated lists
// (limit 500, 1 KiB values, pages after the first at the first page's
// revision, behind the newest) over 20,000 keys whose revisions are
// interleaved with other writes; prints pages/s.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "listpages" {
    let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 20
    let dir = NSTemporaryDirectory() + "mvcc-bench-list-\(getpid())"
    let s = try MVCCStore(path: dir)
    var idx: UInt64 = 0
    var seed: UInt64 = 42
    let val = [UInt8](repeating: 0x6b, count: 1024)
    for round in 0..<3 {
        var batch: [(index: UInt64, request: WriteRequest)] = []
        for n in 0..<20_000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let obj = Int(seed >> 33) % 20_000
            idx += 1
            batch.append((idx, .put(PutRequest(key: Array("/registry/pods/ns-\(obj % 10)/obj-\(obj)".utf8), value: val))))
            idx += 1
            batch.append((idx, .put(PutRequest(key: Array("/registry/events/evt-\(round)-\(n)".utf8), value: val))))
            if batch.count >= 1000 { _ = s.apply(batch: batch, leaseExists: { _ in true }); batch = [] }
        }
        if !batch.isEmpty { _ = s.apply(batch: batch, leaseExists: { _ in true }) }
    }
    idx += 1
    _ = s.apply(batch: [(idx, .put(PutRequest(key: Array("/registry/x".utf8), value: val)))], leaseExists: { _ in true })
    let atRev = s.currentRevision - 1
    let prefix = Array("/registry/pods/".utf8), end = Array("/registry/pods0".utf8)
    var starts: [[UInt8]] = [prefix]  // each page's first key, found before the clock starts
    while let last = try s.range(RangeRequest(key: starts.last!, rangeEnd: end, limit: 500, revision: atRev,
                                              keysOnly: true)).kvs.last, starts.count < 1000 {
        let next = last.key + [0]
        if try s.range(RangeRequest(key: next, rangeEnd: end, revision: atRev, countOnly: true)).count == 0 { break }
        starts.append(next)
    }
    var pages = 0, bytes = 0
    let t = Date()
    for _ in 0..<rounds {
        for key in starts {
            guard let page = try s.rangeEncoded(RangeRequest(key: key, rangeEnd: end, limit: 500, revision: atRev),
                                                headroom: 5, header: { _ in [] }) else { fatalError("not encoded") }
            pages += 1
            bytes += page.bytes.count
        }
    }
    let secs = Date().timeIntervalSince(t)
    print(String(format: "list pages (limit 500, 1 KiB values): %.0f pages/s, %d pages, %.1f MB", Double(pages) / secs, pages, Double(bytes) / 1e6))
    try? FileManager.default.removeItem(atPath: dir)  // before exit: it skips `defer`
    exit(0)
}
let keyCount = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 1_000_000
let dir = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : NSTemporaryDirectory() + "mvcc-bench-\(getpid())"
let keep = CommandLine.arguments.count > 3 && CommandLine.arguments[3] == "keep"
try? FileManager.default.removeItem(atPath: dir)
defer { if !keep { try? FileManager.default.removeItem(atPath: dir) } }

/// xorshift64*: cheap and seeded, so key generation does not dominate the load.
var rngState: UInt64 = 0x9E37_79B9_7F4A_7C15
func nextRandom() -> UInt64 {
    rngState ^= rngState >> 12; rngState ^= rngState << 25; rngState ^= rngState >> 27
    return rngState &* 0x2545_F491_4F6C_DD1D
}
func randomKey() -> [UInt8] { (0 ..< 16).map { _ in UInt8(97 + nextRandom() % 26) } }
let value = [UInt8](repeating: 0x76, count: 256)

func now() -> Double { Date().timeIntervalSince1970 }
func report(_ name: String, _ ops: Int, _ seconds: Double) {
    print(String(format: "%-36@ %10.0f ops/s  (%d ops in %.2fs)", name as NSString, Double(ops) / seconds, ops, seconds))
}
func peakRSSMB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Double(line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) / 1024
    }
    return 0
}

let store = try MVCCStore(path: dir)
var index: UInt64 = 0
func applyBatch(_ reqs: [WriteRequest]) {
    let batch = reqs.map { r -> (index: UInt64, request: WriteRequest) in index += 1; return (index, r) }
    let res = store.apply(batch: batch, leaseExists: { _ in true })
    if case .failure(let e) = res.results.last! { fatalError("\(e)") }
}

// 1. Load: random 16-byte keys, 256-byte values, batches of 1000.
var keys: [[UInt8]] = []
keys.reserveCapacity(keyCount)
var t0 = now()
var i = 0
while i < keyCount {
    let n = min(1000, keyCount - i)
    var reqs: [WriteRequest] = []
    reqs.reserveCapacity(n)
    for _ in 0 ..< n {
        let k = randomKey()
        keys.append(k)
        reqs.append(.put(PutRequest(key: k, value: value)))
    }
    applyBatch(reqs)
    i += n
}
report("load \(keyCount) keys (batch 1000)", keyCount, now() - t0)
print(String(format: "after load: peak RSS %.0f MB, db %.0f MB (in use %.0f MB)", peakRSSMB(),
             Double(store.dbSizeBytes) / 1e6, Double(store.dbSizeInUseBytes) / 1e6))

// 2. Overwrites, batch of 100 (a loaded apply loop).
t0 = now()
let overwrites = 200_000
for b in 0 ..< overwrites / 100 {
    applyBatch((0 ..< 100).map { j in .put(PutRequest(key: keys[(b * 100 + j) % keys.count], value: value)) })
}
report("put existing keys (batch 100)", overwrites, now() - t0)

// 3. One put per commit (an idle apply loop).
t0 = now()
let singles = 20_000
for j in 0 ..< singles { applyBatch([.put(PutRequest(key: keys[j * 7 % keys.count], value: value))]) }
report("put (batch 1)", singles, now() - t0)

// 4. Txn: compare mod revision > 0, put.
t0 = now()
for b in 0 ..< 500 {
    applyBatch((0 ..< 100).map { j in
        let k = keys[(b * 100 + j) * 13 % keys.count]
        return .txn(TxnRequest(compare: [Compare(key: k, target: .mod, result: .greater, .modRevision(0))],
                               success: [.put(PutRequest(key: k, value: value))]))
    })
}
report("txn compare+put (batch 100)", 50_000, now() - t0)

// 5. Point reads, 1 and 2 threads.
func reads(threads: Int, perThread: Int) {
    let t = now()
    let finished = (0 ..< threads).map { _ in Latch() }
    for th in 0 ..< threads {
        Thread {
            for j in 0 ..< perThread {
                let k = keys[(j * 31 + th * 7919) % keys.count]
                let r = try! store.range(RangeRequest(key: k))
                precondition(r.kvs.count == 1)
            }
            finished[th].open()
        }.start()
    }
    finished.forEach { $0.wait() }
    report("range single key, \(threads) thread(s)", threads * perThread, now() - t)
}
reads(threads: 1, perThread: 300_000)
reads(threads: 2, perThread: 300_000)

// 6. Prefix ranges: 3-letter prefixes hold ~keyCount/17576 keys (57 at 1M).
t0 = now()
var returned = 0
for j in 0 ..< 20_000 {
    let p = Array(keys[j % keys.count].prefix(3))
    var end = p
    end[2] += 1
    let r = try store.range(RangeRequest(key: p, rangeEnd: end))
    returned += r.kvs.count
}
report("range 3-letter prefix (avg \(returned / 20_000) keys)", 20_000, now() - t0)

// 7. Compaction of everything superseded.
t0 = now()
let cur = store.currentRevision
applyBatch([.compact(CompactionRequest(revision: cur, physical: true))])
store.waitForCompaction(cur)
report("compact (keys visited)", keyCount, now() - t0)
print(String(format: "end: peak RSS %.0f MB, db %.0f MB (in use %.0f MB)", peakRSSMB(),
             Double(store.dbSizeBytes) / 1e6, Double(store.dbSizeInUseBytes) / 1e6))
store.close()
