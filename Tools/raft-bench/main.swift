import Raft
#if canImport(Glibc)
import Glibc
#endif

/// raft-bench [--entries N] [--batch B] [--size BYTES]
/// A 3-node cluster in one process (no I/O, MemoryStorage): `batch` proposals
/// of `size` bytes per round stand for that many concurrent proposers; every
/// node's Ready is handled (persist to memory, deliver messages, apply,
/// advance) until all entries are applied on every node. Reports committed
/// entries per second and heap allocations per entry (when run with the
/// malloc counter that scripts/bench-raft.sh preloads).
var total = 500_000
var batch = 1024
var size = 128
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--entries": total = Int(args.popFirst() ?? "") ?? total
    case "--batch": batch = Int(args.popFirst() ?? "") ?? batch
    case "--size": size = Int(args.popFirst() ?? "") ?? size
    default: print("unknown argument \(a)"); exit(2)
    }
}

final class BenchNode {
    let id: UInt64
    let storage = MemoryStorage()
    var node: RawNode
    var appliedEntries = 0
    var appliedIndex: UInt64 = 0

    init(id: UInt64, peers: [UInt64]) throws {
        self.id = id
        node = try RawNode(config: RaftConfig(id: id, maxSizePerMsg: 1 << 20, maxInflightMsgs: 256,
                                              randomSeed: id), storage: storage)
        try node.bootstrap(peers: peers)
    }
}

let ids: [UInt64] = [1, 2, 3]
let nodes = try ids.map { try BenchNode(id: $0, peers: ids) }
var inbox: [Message] = []

/// Handles every pending Ready once; returns whether anything happened.
func pump() throws -> Bool {
    var moved = false
    for n in nodes where n.node.hasReady() {
        moved = true
        let rd = n.node.ready()
        try n.storage.persist(rd)
        inbox.append(contentsOf: rd.messages)
        for e in rd.committedEntries {
            if e.type == .confChange {
                n.node.applyConfChange(try ConfChange(decoding: e.data))
            } else if !e.data.isEmpty {
                n.appliedEntries += 1
            }
        }
        n.node.advance(rd)
        // Like a server's snapshot-count: keep the in-memory log bounded.
        if let last = rd.committedEntries.last { n.appliedIndex = last.index }
        let applied = n.appliedIndex
        if applied > (try n.storage.firstIndex()) + 60_000 {
            try n.storage.createSnapshot(index: applied, confState: ConfState(voters: ids), data: [])
            try n.storage.compact(upTo: applied - 10_000)
        }
    }
    if !inbox.isEmpty {
        moved = true
        let batch = inbox
        inbox.removeAll(keepingCapacity: true)
        for m in batch { try? nodes[Int(m.to - 1)].node.step(m) }
    }
    return moved
}

// Elect node 1.
while try pump() {}
try nodes[0].node.campaign()
while try pump() {}
precondition(nodes[0].node.status().role == .leader, "node 1 should lead")

typealias CounterFn = @convention(c) () -> UInt64
/// Provided by the preloaded counter (scripts/bench-raft.sh), absent otherwise.
let counter: CounterFn? = dlsym(dlopen(nil, RTLD_NOW), "malloc_count_get").map { unsafeBitCast($0, to: CounterFn.self) }

let payload = [UInt8](repeating: 0xab, count: size)
let clock = ContinuousClock()
let allocsBefore = counter?() ?? 0
/// Process CPU time: on a shared machine wall time also counts waiting for a core.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
let cpuStart = cpuSeconds()
let start = clock.now
var proposed = 0
while nodes.contains(where: { $0.appliedEntries < total }) {
    if proposed < total {
        let n = min(batch, total - proposed)
        for _ in 0..<n { try nodes[0].node.propose(payload) }
        proposed += n
    }
    _ = try pump()
}
let elapsed = clock.now - start
let cpu = cpuSeconds() - cpuStart
let allocs = (counter?() ?? 0) &- allocsBefore
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let rate = Double(total) / seconds
print("raft-bench: 3 nodes, \(total) entries of \(size) B, \(batch) proposers per round")
func fixed(_ x: Double, _ digits: Int) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    return "\(r)"
}
print("  committed+applied on all nodes in \(fixed(seconds, 3)) s: \(Int(rate)) entries/s (wall clock)")
print("  CPU time \(fixed(cpu, 3)) s: \(Int(Double(total) / cpu)) entries per CPU-second (one thread)")
if counter != nil {
    let perEntry = Double(allocs) / Double(total)
    print("  allocations: \(fixed(perEntry, 1)) per entry (all 3 nodes)")
} else {
    print("  allocations: not measured (run via scripts/bench-raft.sh to preload the malloc counter)")
}
