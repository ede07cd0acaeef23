import Support

/// Wing & Gong's depth-first search for a linearization of one key's
/// history, with Lowe's memoization of (set of linearized ops, state) — the
/// algorithm of porcupine's `checkSingle`.
///
/// The history is a doubly linked list of call and return events sorted by
/// time. Walking it from the head, a call may be linearized (removed from
/// the list with its return, pushed on a stack) if the model accepts its
/// response in the current state and that (linearized set, state) pair was
/// never reached before; the walk then restarts at the head. Reaching a
/// return event means that operation's call was not linearized before it
/// returned: backtrack (pop, put back, try the next call). An empty list is
/// a linearization; backtracking from an empty stack proves there is none.
struct LinearizationSearch {
    enum Result: Equatable {
        case linearizable
        /// `blocked`: the op (index into the search ops) whose return the
        /// deepest attempt could not get past.
        case notLinearizable(blocked: Int)
        /// Gave up after `maxSteps`.
        case budgetExceeded
    }

    /// Runs the search; `maxSteps` bounds the number of list events visited.
    static func run(_ ops: [SearchOp], maxSteps: Int) -> Result {
        var steps = 0
        return run(ops, maxSteps: maxSteps, stepsUsed: &steps)
    }

    /// Runs the search and adds the number of events visited to `stepsUsed`.
    static func run(_ ops: [SearchOp], maxSteps: Int, stepsUsed: inout Int) -> Result {
        if ops.isEmpty { return .linearizable }
        var search = LinearizationSearch(ops)
        let result = search.run(maxSteps: maxSteps)
        stepsUsed += search.steps
        return result
    }

    private let ops: [SearchOp]
    // Events are numbered 1...2n; 0 is the head sentinel, -1 the end.
    private var next: [Int]
    private var prev: [Int]
    /// The op of each event; calls are `op`, returns `~op` (negative).
    private var eventOp: [Int]
    /// The return event of each op.
    private var returnEvent: [Int]
    /// Random words per op for an incrementally maintained hash of the linearized set.
    private let zobrist: [UInt64]
    private var steps = 0

    private init(_ ops: [SearchOp]) {
        self.ops = ops
        var events: [(time: Int64, isReturn: Bool, op: Int)] = []
        events.reserveCapacity(ops.count * 2)
        for (i, op) in ops.enumerated() {
            events.append((op.invokeNs, false, i))
            events.append((op.returnNs, true, i))
        }
        // Calls before returns at equal times: touching intervals overlap.
        events.sort { ($0.time, $0.isReturn ? 1 : 0, $0.op) < ($1.time, $1.isReturn ? 1 : 0, $1.op) }
        let count = events.count
        next = Array(0...count).map { $0 == count ? -1 : $0 + 1 }
        prev = Array(0...count).map { $0 - 1 }
        eventOp = [0] + events.map { $0.isReturn ? ~$0.op : $0.op }
        returnEvent = Array(repeating: 0, count: ops.count)
        for (i, e) in events.enumerated() where e.isReturn { returnEvent[e.op] = i + 1 }
        var rng = SplitMix64(seed: 0x5EED_11AE_A21A_B1E5)
        zobrist = ops.map { _ in rng.next() }
    }

    /// Unlinks a call event and its return.
    private mutating func lift(_ call: Int) {
        unlink(call)
        unlink(returnEvent[eventOp[call]])
    }

    /// Relinks what `lift` removed, in reverse order.
    private mutating func unlift(_ call: Int) {
        relink(returnEvent[eventOp[call]])
        relink(call)
    }

    private mutating func unlink(_ e: Int) {
        next[prev[e]] = next[e]
        if next[e] != -1 { prev[next[e]] = prev[e] }
    }

    /// Valid only in the reverse order of `unlink`s: `e` still holds its old neighbours.
    private mutating func relink(_ e: Int) {
        next[prev[e]] = e
        if next[e] != -1 { prev[next[e]] = e }
    }

    private mutating func run(maxSteps: Int) -> Result {
        var linearized = Bitset(count: ops.count)
        var state = RegisterModel.absent
        var stack: [(call: Int, state: RegisterModel.State)] = []
        var seen = Set<CacheKey>()
        var deepest = (depth: -1, op: 0)
        var event = next[0]
        while next[0] != -1 {
            steps += 1
            if steps > maxSteps { return .budgetExceeded }
            let op = eventOp[event]
            if op >= 0 {
                let candidate = ops[op]
                if candidate.after.map({ linearized.contains($0) }) ?? true,
                   let newState = RegisterModel.apply(candidate.step, to: state) {
                    var newSet = linearized
                    newSet.insert(op, hash: zobrist[op])
                    if seen.insert(CacheKey(set: newSet, state: newState)).inserted {
                        stack.append((event, state))
                        state = newState
                        linearized = newSet
                        lift(event)
                        event = next[0]
                        continue
                    }
                }
                event = next[event]
            } else {
                if stack.count > deepest.depth { deepest = (stack.count, ~op) }
                guard let top = stack.popLast() else { return .notLinearizable(blocked: deepest.op) }
                state = top.state
                linearized.remove(eventOp[top.call], hash: zobrist[eventOp[top.call]])
                unlift(top.call)
                event = next[top.call]
            }
        }
        return .linearizable
    }
}

/// A set of op indices with a Zobrist hash kept up to date on every change.
struct Bitset: Hashable {
    private var words: [UInt64]
    private(set) var zobristHash: UInt64 = 0

    init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }

    func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    mutating func insert(_ i: Int, hash h: UInt64) {
        words[i >> 6] |= 1 << UInt64(i & 63)
        zobristHash ^= h
    }

    mutating func remove(_ i: Int, hash h: UInt64) {
        words[i >> 6] &= ~(1 << UInt64(i & 63))
        zobristHash ^= h
    }

    static func == (a: Bitset, b: Bitset) -> Bool { a.zobristHash == b.zobristHash && a.words == b.words }
    func hash(into hasher: inout Hasher) { hasher.combine(zobristHash) }
}

private struct CacheKey: Hashable {
    let set: Bitset
    let state: RegisterModel.State
}

