import Raft

/// A simulated network: messages are delayed by a random number of
/// microsteps (which also reorders them), dropped or duplicated at the
/// configured rates, and blocked by partitions (directed pairs; a symmetric
/// partition blocks both directions).
struct SimNetwork {
    struct InFlight {
        var deliverAt: Int
        /// Tie-breaker so delivery order is a pure function of the seed.
        var seq: Int
        var message: Message
    }

    var inFlight: [InFlight] = []
    var blocked: Set<Pair> = []
    var dropRate = 0.0
    var dupRate = 0.0
    var maxDelayMicrosteps = 1
    private var seq = 0
    /// Upper bound on queued messages (a real network has one too).
    let capacity = 20_000

    struct Pair: Hashable { var from: UInt64; var to: UInt64 }

    func isBlocked(_ from: UInt64, _ to: UInt64) -> Bool { blocked.contains(Pair(from: from, to: to)) }

    /// Queues `m` unless it is dropped; returns false when dropped.
    mutating func send(_ m: Message, now: Int, rng: inout SimRandom) -> Bool {
        if isBlocked(m.from, m.to) || rng.chance(dropRate) || inFlight.count >= capacity { return false }
        let copies = rng.chance(dupRate) ? 2 : 1
        for _ in 0..<copies {
            seq += 1
            inFlight.append(InFlight(deliverAt: now + 1 + rng.below(maxDelayMicrosteps), seq: seq, message: m))
        }
        return true
    }

    /// Removes and returns the messages due at `now`, in a seeded order.
    mutating func due(now: Int, rng: inout SimRandom) -> [Message] {
        var ready: [InFlight] = []
        var rest: [InFlight] = []
        rest.reserveCapacity(inFlight.count)
        for f in inFlight {
            if f.deliverAt <= now { ready.append(f) } else { rest.append(f) }
        }
        inFlight = rest
        ready.sort { ($0.deliverAt, $0.seq) < ($1.deliverAt, $1.seq) }
        // Shuffle a little more: same-time messages arrive in a random order.
        if ready.count > 1 {
            for i in stride(from: ready.count - 1, to: 0, by: -1) where ready[i].deliverAt == ready[i - 1].deliverAt {
                if rng.chance(0.5) { ready.swapAt(i, i - 1) }
            }
        }
        return ready.map(\.message)
    }

    /// Removes and returns the messages to `to` due at `now` that `accept`
    /// takes, in queue order (a node stepping its mail while it persists).
    mutating func takeDue(to: UInt64, now: Int, accept: (Message) -> Bool) -> [Message] {
        var taken: [Message] = []
        inFlight.removeAll { f in
            guard f.deliverAt <= now, f.message.to == to, accept(f.message) else { return false }
            taken.append(f.message)
            return true
        }
        return taken
    }

    mutating func heal() { blocked.removeAll() }
}
