/// The sequential specification of one key: a register holding a value or
/// nothing, compiled for the search. Values are interned to small integers;
/// every value that no get returns and no compare-and-set expects is mapped
/// to one `garbage` state, because nothing can tell such values apart — this
/// merges search states that differ only in an unobserved value.
struct RegisterModel {
    typealias State = Int32
    static let absent: State = -1
    static let garbage: State = -2

    /// What an operation does to the register, and whether its response fits.
    enum Step: Hashable {
        /// put, or a compare-and-set known to have swapped is `.swap`.
        case write(State)
        case read(State)
        case swap(expected: State, new: State)
        /// The compare did not hold: legal only while the value differs.
        case noSwap(expected: State)
        /// Unknown outcome: swaps if the value matches, else does nothing.
        case maybeSwap(expected: State, new: State)
    }

    /// The register after `step` from `state`, or `nil` if the response
    /// could not have been given in `state`.
    static func apply(_ step: Step, to state: State) -> State? {
        switch step {
        case .write(let v): return v
        case .read(let v): return state == v ? state : nil
        case .swap(let e, let n): return state == e ? n : nil
        case .noSwap(let e): return state == e ? nil : state
        case .maybeSwap(let e, let n): return state == e ? n : state
        }
    }
}

/// One operation as the search sees it.
struct SearchOp {
    /// Index into the caller's operation list.
    var source: Int
    var invokeNs: Int64
    /// `Int64.max` for an unknown outcome.
    var returnNs: Int64
    var step: RegisterModel.Step
    /// Index (into the search's op list) of an interchangeable operation
    /// that must be linearized first; see `compile`.
    var after: Int?
}

extension RegisterModel {
    /// Compiles one key's operations (gets with an unknown outcome already
    /// removed) for the search.
    ///
    /// Unknown writes of unobserved values ("garbage writes") get special
    /// care, since each one left pending doubles the search space:
    /// - Placing one anywhere but at the end of a linearization can only
    ///   help a compare-and-set that did not swap (it changes the value to
    ///   one nobody observes), so one invoked after every such op returned is
    ///   dropped: placing it last is the same as never applying it.
    /// - The rest are interchangeable within a class of equal steps (all
    ///   garbage puts write the same `garbage` state; garbage CASes with the
    ///   same expected value are alike). Any linearization can use the
    ///   earliest-invoked members of a class first, since an earlier
    ///   invocation only relaxes where an op may go; so each member is
    ///   chained `after` the previous one and the search sees a prefix of
    ///   each class instead of every subset.
    /// An unknown write of an observed value is bounded instead: if it is
    /// the only op that writes its value, it must come before every get that
    /// returned the value and every swap that compared equal to it, so it
    /// may as well have returned when the first of those did.
    ///
    /// `droppingGarbage` drops every garbage write: a history that is then
    /// linearizable is linearizable with them too (placed last), so the
    /// checker tries this much smaller search first.
    static func compile(_ ops: [Operation], droppingGarbage: Bool = false) -> [SearchOp] {
        var observed = Set<String>()
        for op in ops {
            switch (op.call, op.outcome) {
            case (.get, .read(let v?)): observed.insert(v)
            case (.compareAndSet(let e, _), _): observed.insert(e)
            default: break
            }
        }
        var ids: [String: State] = [:]
        func intern(_ value: String?) -> State {
            guard let value else { return absent }
            guard observed.contains(value) else { return garbage }
            if let id = ids[value] { return id }
            let id = State(ids.count)
            ids[value] = id
            return id
        }
        var writers: [String: Int] = [:]
        var firstObservedNs: [String: Int64] = [:]
        for op in ops {
            if let v = op.writtenValue { writers[v, default: 0] += 1 }
            switch (op.call, op.outcome) {
            case (.get, .read(let v?)), (.compareAndSet(let v, _), .swapped(true)):
                firstObservedNs[v] = min(firstObservedNs[v] ?? .max, op.returnNs ?? .max)
            default: break
            }
        }
        let lastNoSwapReturnNs = ops.lazy.filter { $0.outcome == .swapped(false) }.map { $0.returnNs ?? .max }.max()

        var result: [SearchOp] = []
        var lastOfClass: [Step: Int] = [:]
        // Invocation order, so each class is chained earliest first.
        for index in ops.indices.sorted(by: { (ops[$0].invokeNs, $0) < (ops[$1].invokeNs, $1) }) {
            let op = ops[index]
            let step: Step
            switch (op.call, op.outcome) {
            case (.put(let v), _): step = .write(intern(v))
            case (.get, .read(let v)): step = .read(intern(v))
            case (.compareAndSet(let e, let n), .swapped(true)): step = .swap(expected: intern(e), new: intern(n))
            case (.compareAndSet(let e, _), .swapped(false)): step = .noSwap(expected: intern(e))
            case (.compareAndSet(let e, let n), .unknown): step = .maybeSwap(expected: intern(e), new: intern(n))
            default: preconditionFailure("ill-formed operation \(op)")
            }
            let unknown = op.outcome == .unknown
            var after: Int?
            if unknown, op.writtenValue.map({ !observed.contains($0) }) == true {
                guard !droppingGarbage, let lastNoSwapReturnNs, lastNoSwapReturnNs > op.invokeNs else { continue }
                after = lastOfClass[step]
                lastOfClass[step] = result.count
            }
            var returnNs = unknown ? .max : (op.returnNs ?? .max)
            if unknown, let v = op.writtenValue, writers[v] == 1, let seenNs = firstObservedNs[v] {
                returnNs = max(op.invokeNs, seenNs)
            }
            result.append(SearchOp(source: index, invokeNs: op.invokeNs, returnNs: returnNs, step: step, after: after))
        }
        return result
    }
}
