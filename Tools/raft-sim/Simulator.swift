import Raft

struct SimFailure: Error { var message: String }

/// Drives a cluster of Raft nodes on one thread from one seeded PRNG:
/// simulated clock (ticks split into microsteps), simulated network, crashes
/// and restarts, client traffic and admin operations. Phase 1 injects faults
/// for `faultTicks`; phase 2 heals everything and demands progress within
/// `livenessTicks`. Safety checks (Simulator+Checks.swift) run as events happen.
public final class Simulator {
    let seed: UInt64
    let cfg: SimConfig
    var rng: SimRandom
    var net = SimNetwork()
    var nodes: [UInt64: SimNode] = [:]
    var nextNodeID: UInt64 = 1
    /// Simulated time in microsteps.
    var now = 0
    var trace: [String] = []
    var stats: [String: Int] = [:]
    var checker = SafetyChecker()
    var nextRequestID: UInt64 = 0
    /// Index of the first liveness marker applied anywhere (phase 2).
    var markerIndex: UInt64?
    /// Per-node Raft settings drawn once per run.
    var checkQuorum = true
    var preVote = true
    var maxSizePerMsg = 4096
    var maxInflight = 8
    /// Per-run intensity: client proposals per tick, and a multiplier on
    /// crash / restart / leader isolation / heal rates.
    var proposalRate = 0.6
    /// Per-run reads per tick and leadership transfers per tick.
    var readRate = 0.1
    var transferRate = 0.02
    /// Per-run rate of `staleLeaderRead` set-ups; while one lasts (no heal
    /// before tick `pinnedUntil`) most reads go to `readTarget`.
    var staleReadRate = 0.0
    /// Per-run chance that a node handles its Ready in a microstep.
    var readyRate = 0.7
    var readTarget: UInt64?
    var pinnedUntil = 0
    /// Ticks only every third tick while the set-up lasts.
    var slowNode: UInt64?
    var violence = 1.0
    /// Chance that a newly elected leader appends one entry and is isolated at once.
    var fleetingLeaderRate = 0.0
    var fleetingLeader: UInt64?
    var inFaultPhase = true

    public init(seed: UInt64, config: SimConfig) {
        self.seed = seed
        cfg = config
        rng = SimRandom(seed: seed)
    }

    public func run() -> SimOutcome {
        var failure: String?
        do {
            try setUp()
            for _ in 0..<cfg.faultTicks { try faultTick() }
            try calm()
        } catch let f as SimFailure {
            failure = f.message
        } catch {
            failure = "unexpected error: \(error)"
        }
        return SimOutcome(seed: seed, failure: failure, trace: trace,
                          committedEntries: checker.committedCount, stats: stats)
    }

    func log(_ s: @autoclosure () -> String) {
        guard cfg.trace else { return }
        let line = "[t=\(now / cfg.microstepsPerTick).\(now % cfg.microstepsPerTick)] \(s())"
        if cfg.printTrace { print(line) } else { trace.append(line) }
    }

    func count(_ key: String) { stats[key, default: 0] += 1 }

    // MARK: set-up and node lifecycle

    private func setUp() throws {
        proposalRate = [0.05, 0.2, 0.6][rng.below(3)]
        readRate = [0.1, 0.3, 0.8][rng.below(3)]
        transferRate = [0.02, 0.05][rng.below(2)]
        staleReadRate = [0.0, 0.03, 0.08][rng.below(3)]
        readyRate = [0.3, 0.7, 0.7][rng.below(3)]
        violence = [1.0, 2.0, 4.0][rng.below(3)]
        fleetingLeaderRate = [0.0, 0.3, 0.6][rng.below(3)]
        checkQuorum = rng.chance(0.8)
        preVote = rng.chance(0.8)
        maxSizePerMsg = [0, 64, 512, 4096, Int.max][rng.below(5)]
        maxInflight = rng.inRange(1...16)
        net.dropRate = [0.0, 0.01, 0.05, 0.15][rng.below(4)]
        net.dupRate = [0.0, 0.02, 0.1][rng.below(3)]
        net.maxDelayMicrosteps = rng.inRange(1...(3 * cfg.microstepsPerTick))
        log("config nodes=\(cfg.initialNodes) proposalRate=\(proposalRate) readRate=\(readRate) transferRate=\(transferRate) staleRead=\(staleReadRate) readyRate=\(readyRate) violence=\(violence) fleeting=\(fleetingLeaderRate) checkQuorum=\(checkQuorum) preVote=\(preVote) maxSizePerMsg=\(maxSizePerMsg) maxInflight=\(maxInflight) drop=\(net.dropRate) dup=\(net.dupRate) delay=\(net.maxDelayMicrosteps)")
        let ids = (1...UInt64(cfg.initialNodes)).map { $0 }
        nextNodeID = UInt64(cfg.initialNodes) + 1
        for id in ids {
            let sn = SimNode(id: id)
            nodes[id] = sn
            try start(sn)
            try sn.node!.bootstrap(peers: ids)
            // swift-etcd writes the bootstrap entries before its Raft loop
            // starts: a crash never loses them.
            try processReady(sn)
        }
    }

    func raftConfig(_ id: UInt64, applied: UInt64) -> RaftConfig {
        RaftConfig(id: id, electionTicks: 10, heartbeatTicks: 1, maxSizePerMsg: maxSizePerMsg,
                   maxInflightMsgs: maxInflight, checkQuorum: checkQuorum, preVote: preVote,
                   applied: applied, randomSeed: rng.next(),
                   testingFaults: RaftTestingFaults(commitPreviousTermByCounting: cfg.plantCommitPreviousTermBug,
                                                    voteIgnoringLog: cfg.plantVoteIgnoringLogBug,
                                                    skipEmptyEntryOnElection: cfg.plantSkipEmptyEntry))
    }

    /// (Re)starts a node from its durable storage; the state machine restarts
    /// from the storage's snapshot and re-applies the committed log after it.
    func start(_ sn: SimNode) throws {
        let snap = try sn.storage.snapshot()
        sn.restoreState(from: snap)
        try checker.checkRestoredSnapshot(node: sn.id, snap)
        sn.node = try RawNode(config: raftConfig(sn.id, applied: snap.metadata.index), storage: sn.storage)
        sn.grant = nil
        log("start n\(sn.id) applied=\(snap.metadata.index) hs=\(sn.storage.hardState)")
    }

    func crash(_ sn: SimNode) {
        sn.node = nil
        sn.grant = nil
        count("crash")
        log("crash n\(sn.id) (unpersisted state lost)")
    }

    var upNodes: [SimNode] { nodes.keys.sorted().compactMap { nodes[$0] }.filter(\.isUp) }

    var leaders: [SimNode] { upNodes.filter { $0.node!.status().role == .leader } }

    /// The leader with the highest term, if any.
    var currentLeader: SimNode? {
        leaders.max { $0.node!.status().term < $1.node!.status().term }
    }

    // MARK: phase 1

    private func faultTick() throws {
        for _ in 0..<cfg.microstepsPerTick {
            try deliverDue()
            // Nodes handle their Ready lazily, so crashes catch unpersisted
            // state, and a leader's grant may lag what its last round sent.
            for sn in upNodes where rng.chance(readyRate) { try processReady(sn) }
            // Reads start between rounds too, not only on tick boundaries.
            if rng.chance(readRate / Double(cfg.microstepsPerTick)) { read() }
            now += 1
        }
        let tick = now / cfg.microstepsPerTick
        if tick >= pinnedUntil { slowNode = nil }
        for sn in upNodes where sn.id != slowNode || tick % 3 == 0 { sn.node!.tick() }
        try randomEvents()
        if (now / cfg.microstepsPerTick) % 20 == 0 { try checker.checkLogMatching(upNodes) }
    }

    private func randomEvents() throws {
        // While a stale-leader read set-up lasts, no other network fault or
        // crash spoils it (leadership may still move, members change).
        let staged = now / cfg.microstepsPerTick < pinnedUntil
        if rng.chance(proposalRate) { propose() }
        if rng.chance(transferRate) { transfer() }
        if rng.chance(staleReadRate), !staged { staleLeaderRead() }
        if rng.chance(0.03) { try changeMembership() }
        if rng.chance(0.05) { try compact() }
        if rng.chance(0.01 * violence), !staged, let sn = rng.pick(upNodes) { crash(sn) }
        if rng.chance(0.04 * violence), let sn = rng.pick(nodes.values.sorted { $0.id < $1.id }.filter { !$0.isUp && !$0.removed }) {
            try start(sn)
        }
        if rng.chance(0.02), !staged { partition() }
        // Leader-targeted faults make short-lived leaders, the stuff of Figure 8.
        if rng.chance(0.03 * violence), !staged, let l = currentLeader { isolate(l.id) }
        if rng.chance(0.01 * violence), !staged, let l = currentLeader { crash(l) }
        if rng.chance(0.03 * violence), !net.blocked.isEmpty, !staged {
            net.heal()
            readTarget = nil
            log("heal partitions")
        }
    }

    func newRequestID() -> [UInt8] {
        nextRequestID += 1
        var out: [UInt8] = []
        for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: nextRequestID >> UInt64(s))) }
        return out
    }

    private func propose() {
        let target = rng.chance(0.7) ? currentLeader : rng.pick(upNodes)
        guard let sn = target else { return }
        let data = newRequestID()
        do {
            try sn.node!.propose(data)
            count("propose")
            log("propose n\(sn.id) \(data.first!)")
        } catch {
            count("proposeDropped")
        }
    }

    /// What a read started now must see: every index known committed
    /// outside a leader (applied, persisted as committed, or heard of by a
    /// follower), which covers every write acknowledged so far (answered
    /// once applied) and every read completed (served once applied). Not a
    /// leader's own commit index before its next Ready: nobody has seen it,
    /// and a grant taken earlier may answer below it.
    var commitLowerBound: UInt64 {
        let heard = upNodes.filter { !$0.node!.isLeader }.map { $0.node!.status().commit }.max() ?? 0
        return max(heard, checker.highestCommitted)
    }

    /// A linearizable read at a random member, most often a follower (whose
    /// request the leader answers from its grant, its core, or a heartbeat
    /// round).
    private func read() {
        let followers = upNodes.filter { $0.node!.status().role == .follower }
        let target = readTarget.flatMap { nodes[$0] }.flatMap { $0.isUp && rng.chance(0.7) ? $0 : nil }
        guard let sn = target ?? (rng.chance(0.7) ? rng.pick(followers) ?? rng.pick(upNodes) : rng.pick(upNodes)) else { return }
        let ctx = newRequestID()
        let bound = commitLowerBound
        checker.readStarted(ctx, commitLowerBound: bound)
        sn.node!.readIndex(context: ctx)
        count("read")
        log("readIndex n\(sn.id) read \(ctx.first!) (commit lower bound \(bound))")
    }

    /// Where a follower's forwarded reads meet a stale leader: the leader
    /// and a follower (or learner) cut off together from the rest (a majority when there
    /// are 4 or 5 voters), or a follower cut from the member that leadership
    /// then moves to, so that it still forwards reads to the old leader. The
    /// cut lasts 15-40 ticks; most reads meanwhile go to that follower.
    private func staleLeaderRead() {
        guard let l = currentLeader else { return }
        let cs = l.node!.status().confState
        let voters = cs.voters.filter { $0 != l.id && nodes[$0]?.isUp == true }
        // A learner forwards reads too, but does not count towards a quorum.
        let learners = cs.learners.filter { nodes[$0]?.isUp == true }
        guard let f = rng.pick(!learners.isEmpty && rng.chance(0.5) ? learners : voters) else { return }
        let ids = nodes.keys.sorted()
        net.heal()
        // With 3 voters the leader and a voter are a majority: the cut-link
        // shape then, mostly.
        if rng.chance(cs.voters.count >= 4 || learners.contains(f) ? 0.8 : 0.3) {
            let side: Set<UInt64> = [l.id, f]
            for a in ids { for b in ids where side.contains(a) != side.contains(b) {
                net.blocked.insert(.init(from: a, to: b))
            } }
            log("stale-leader read: partition \(side.sorted()) | \(ids.filter { !side.contains($0) }), reads at n\(f)")
            // A leader whose clock runs slow (a stalled process): the other
            // side elects a leader long before it notices, by CheckQuorum,
            // that it lost its quorum; meanwhile its heartbeats keep the
            // follower with it. Reads must not tell.
            slowNode = l.id
        } else if let b = rng.pick(voters.filter { $0 != f }) {
            net.blocked.insert(.init(from: f, to: b))
            net.blocked.insert(.init(from: b, to: f))
            l.node!.transferLeader(to: b)
            log("stale-leader read: cut n\(f) <-/-> n\(b), transferLeader n\(l.id) -> n\(b), reads at n\(f)")
        } else {
            return
        }
        count("staleLeaderRead")
        readTarget = f
        pinnedUntil = now / cfg.microstepsPerTick + rng.inRange(15...40)
    }

    private func transfer() {
        guard let l = currentLeader, let to = rng.pick(l.node!.status().confState.voters.filter({ $0 != l.id })) else { return }
        l.node!.transferLeader(to: to)
        count("transfer")
        log("transferLeader n\(l.id) -> n\(to)")
    }

    private func changeMembership() throws {
        guard let l = currentLeader else { return }
        let cs = l.node!.status().confState
        var options: [ConfChange] = []
        if cs.voters.count + cs.learners.count < 5 {
            options.append(ConfChange(type: .addLearnerNode, nodeID: nextNodeID))
            options.append(ConfChange(type: .addNode, nodeID: nextNodeID))
        }
        for learner in cs.learners { options.append(ConfChange(type: .addNode, nodeID: learner)) }
        if cs.voters.count > 3 {
            for v in cs.voters { options.append(ConfChange(type: .removeNode, nodeID: v)) }
        }
        guard let cc = rng.pick(options) else { return }
        do {
            try l.node!.proposeConfChange(cc)
        } catch {
            return
        }
        count("confChange")
        log("proposeConfChange n\(l.id) \(cc.type) n\(cc.nodeID)")
        if cc.nodeID == nextNodeID {
            // Start the new member empty; the leader catches it up once the change applies.
            nextNodeID += 1
            let sn = SimNode(id: cc.nodeID)
            nodes[sn.id] = sn
            try start(sn)
        }
    }

    private func compact() throws {
        guard let sn = rng.pick(upNodes) else { return }
        let first = try sn.storage.firstIndex()
        guard sn.appliedIndex > first + 3 else { return }
        let snap = try sn.storage.createSnapshot(index: sn.appliedIndex, confState: sn.confState, data: sn.snapshotData())
        let keep = UInt64(rng.below(3))
        let upTo = max(first, sn.appliedIndex - keep)
        if upTo > first { try sn.storage.compact(upTo: upTo) }
        count("compact")
        let newFirst = try sn.storage.firstIndex()
        log("snapshot+compact n\(sn.id) at \(snap.metadata.index), log from \(newFirst)")
    }

    func isolate(_ id: UInt64) {
        for other in nodes.keys where other != id {
            net.blocked.insert(.init(from: id, to: other))
            net.blocked.insert(.init(from: other, to: id))
        }
        count("isolateLeader")
        log("isolate leader n\(id)")
    }

    private func partition() {
        let ids = nodes.keys.sorted()
        let shape = rng.below(4)
        if shape == 2, let l = currentLeader, let f = rng.pick(ids.filter({ $0 != l.id })) {
            // The leader and one follower apart from the rest: in a cluster of
            // 5 a stale leader whose follower still forwards reads to it.
            let side: Set<UInt64> = [l.id, f]
            for a in ids { for b in ids where side.contains(a) != side.contains(b) {
                net.blocked.insert(.init(from: a, to: b))
            } }
            log("partition leader+follower \(side.sorted()) | \(ids.filter { !side.contains($0) })")
        } else if shape == 3, let a = rng.pick(ids), let b = rng.pick(ids.filter({ $0 != a })) {
            // One link cut both ways: a follower that hears only the old
            // leader when leadership moves elsewhere.
            net.blocked.insert(.init(from: a, to: b))
            net.blocked.insert(.init(from: b, to: a))
            log("cut link n\(a) <-/-> n\(b)")
        } else if shape == 0 {
            // Symmetric: split into two groups.
            let side = Set(ids.filter { _ in rng.chance(0.5) })
            for a in ids { for b in ids where side.contains(a) != side.contains(b) {
                net.blocked.insert(.init(from: a, to: b))
            } }
            log("partition \(side.sorted()) | \(ids.filter { !side.contains($0) })")
        } else if let a = rng.pick(ids), let b = rng.pick(ids.filter({ $0 != a })) {
            net.blocked.insert(.init(from: a, to: b))
            log("one-way partition n\(a) -/-> n\(b)")
        }
        count("partition")
    }
}
