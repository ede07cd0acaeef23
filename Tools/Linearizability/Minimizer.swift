/// Shrinks one key's non-linearizable history to a few operations that
/// still cannot be ordered, so a violation reads like "put(a), put(b)
/// returned, then get = a".
///
/// Every step is monotone — if the history were linearizable, so would the
/// smaller one be — so the result is a sound witness for the whole history:
/// 1. Cut: the earliest time T such that the history up to T is already not
///    linearizable. Ops invoked after T are dropped; ops still running at T
///    become unknown (a get is dropped). A binary search over return times.
/// 2. Then, until nothing changes, keeping each change only if the rest
///    stays non-linearizable (tried on halving chunks of candidates first,
///    as in delta debugging, then one op at a time):
///    - drop gets and compare-and-sets that did not swap (they leave the
///      value alone);
///    - relax definite writes to an unknown outcome (they still may happen);
///    - drop unknown writes of values nobody remaining reads or compares
///      to, if no remaining failed compare returned after they were invoked
///      (the argument of `RegisterModel.compile`).
///    Reads go first: relaxing writes that many reads still observe would
///    leave the search many pending unknowns to place.
///
/// The result lists the original operations: with their real outcomes and
/// return times they are at least as constrained as the relaxed ones.
struct Minimizer {
    let maxSteps: Int
    /// Bounds on the number of searches and on their steps in all.
    private var checksLeft = 600
    private var stepsLeft: Int
    /// Whether every search so far was conclusive.
    private var exact = true
    /// The shrinking history, indexed like the input; `nil`: dropped.
    private var current: [Operation?] = []

    init(maxSteps: Int, maxTotalSteps: Int) {
        self.maxSteps = maxSteps
        stepsLeft = maxTotalSteps
    }

    /// The shrunk history (always a sound witness) and whether the shrinking
    /// ran to completion with every search conclusive.
    func shrink(_ ops: [Operation]) -> (operations: [Operation], isMinimal: Bool) {
        var m = self
        let kept = m.run(ops)
        return (kept.map { ops[$0] }, m.exact)
    }

    private mutating func run(_ ops: [Operation]) -> [Int] {
        let returns = Array(Set(ops.compactMap(\.returnNs))).sorted()
        var (lo, hi) = (0, returns.count - 1)
        var cutNs = Int64.max
        while lo <= hi {
            let mid = (lo + hi) / 2
            if isLinearizable(ops.compactMap { seen($0, at: returns[mid]) }) == false {
                cutNs = returns[mid]
                hi = mid - 1
            } else {
                lo = mid + 1
            }
        }
        current = ops.map { seen($0, at: cutNs) }
        var changed = true
        while changed && checksLeft > 0 && stepsLeft > 0 {
            changed = false
            changed = reduce(where: Self.isNeutral) { _ in nil } || changed
            changed = reduce(where: { $0.outcome != .unknown && $0.writtenValue != nil }) { op in
                var relaxed = op
                relaxed.outcome = .unknown
                relaxed.returnNs = nil
                return relaxed
            } || changed
            let remaining = current.compactMap { $0 }
            changed = reduce(where: { Self.isDroppable($0, among: remaining) }) { _ in nil } || changed
        }
        return current.indices.filter { current[$0] != nil }
    }

    /// Applies `change` to as many ops matching `candidate` as it can while
    /// the history stays non-linearizable; whether anything changed.
    private mutating func reduce(where candidate: (Operation) -> Bool, _ change: (Operation) -> Operation?) -> Bool {
        var todo = current.indices.filter { current[$0].map(candidate) ?? false }
        var chunk = max(1, todo.count / 2)
        var changed = false
        while !todo.isEmpty && checksLeft > 0 && stepsLeft > 0 {
            var progress = false
            for start in stride(from: 0, to: todo.count, by: chunk) {
                let slice = Array(todo[start..<min(start + chunk, todo.count)])
                var trial = current
                for i in slice { trial[i] = change(current[i]!) }
                if isLinearizable(trial.compactMap { $0 }) == false {
                    current = trial
                    progress = true
                    changed = true
                }
            }
            todo = todo.filter { current[$0].map(candidate) ?? false }
            if !progress {
                if chunk == 1 { break }
                chunk = max(1, chunk / 2)
            }
        }
        return changed
    }

    /// `op` as seen at time `cutNs`: `nil` if not yet invoked (or a get still running).
    private func seen(_ op: Operation, at cutNs: Int64) -> Operation? {
        guard op.invokeNs <= cutNs else { return nil }
        guard (op.returnNs ?? .max) > cutNs else { return op }
        if case .get = op.call { return nil }
        var pending = op
        pending.outcome = .unknown
        pending.returnNs = nil
        return pending
    }

    /// `nil` when the search was not conclusive (or no checks are left).
    private mutating func isLinearizable(_ ops: [Operation]) -> Bool? {
        guard checksLeft > 0, stepsLeft > 0 else { exact = false; return nil }
        checksLeft -= 1
        var used = 0
        defer { stepsLeft -= used }
        switch LinearizationSearch.run(RegisterModel.compile(ops), maxSteps: min(maxSteps, stepsLeft), stepsUsed: &used) {
        case .linearizable: return true
        case .notLinearizable: return false
        case .budgetExceeded: exact = false; return nil
        }
    }

    private static func isNeutral(_ op: Operation) -> Bool {
        switch (op.call, op.outcome) {
        case (.get, _), (.compareAndSet, .swapped(false)): return true
        default: return false
        }
    }

    /// An unknown write whose value no other op observes, placed where no
    /// failed compare could follow it: it may as well never happen.
    private static func isDroppable(_ op: Operation, among ops: [Operation]) -> Bool {
        guard op.outcome == .unknown, let v = op.writtenValue else { return false }
        return !ops.contains { other in
            switch (other.call, other.outcome) {
            case (.get, .read(let read)): return read == v
            case (.compareAndSet(let e, _), .swapped(false)): return e == v || (other.returnNs ?? .max) > op.invokeNs
            case (.compareAndSet(let e, _), _): return e == v
            default: return false
            }
        }
    }
}
