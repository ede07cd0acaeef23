/// Checks a history of put / get / compare-and-set operations against a
/// linearizable key-value store: one register per key, checked separately
/// (linearizability is compositional, so the whole history is linearizable
/// iff every key's is).
///
/// ```
/// let result = LinearizabilityChecker().check(try History.parse(jsonLines: text))
/// if !result.isLinearizable { print(result) }
/// ```
public struct LinearizabilityChecker: Sendable {
    /// Bound on the search per key (list events visited); a key that needs
    /// more is reported as inconclusive rather than hanging the caller.
    public var maxStepsPerKey: Int
    /// Whether to shrink each violation to a small set of operations that
    /// cannot be ordered (costs extra searches on the failing key only).
    public var minimizes: Bool

    public init(maxStepsPerKey: Int = 20_000_000, minimizes: Bool = true) {
        self.maxStepsPerKey = maxStepsPerKey
        self.minimizes = minimizes
    }

    public func check(_ history: [Operation]) -> CheckResult {
        var byKey: [String: [Operation]] = [:]
        for op in history {
            precondition(op.isWellFormed, "ill-formed operation \(op)")
            // A get that got no answer constrains nothing.
            if case .get = op.call, op.outcome == .unknown { continue }
            byKey[op.key, default: []].append(op)
        }
        var result = CheckResult(operationCount: history.count, keyCount: byKey.count)
        for key in byKey.keys.sorted() {
            let ops = byKey[key]!
            // Without the garbage writes first: usually enough, and much cheaper.
            if LinearizationSearch.run(RegisterModel.compile(ops, droppingGarbage: true), maxSteps: maxStepsPerKey) == .linearizable {
                continue
            }
            // A classic anomaly proves a violation in at most four ops, even where the full search would not finish.
            if let anomaly = Anomaly.earliest(in: ops) {
                result.violations.append(Violation(key: key, operations: anomaly, blocked: anomaly.last!, isMinimal: true))
                continue
            }
            let compiled = RegisterModel.compile(ops)
            switch LinearizationSearch.run(compiled, maxSteps: maxStepsPerKey) {
            case .linearizable:
                break
            case .budgetExceeded:
                result.inconclusiveKeys.append(key)
            case .notLinearizable(let blocked):
                let shrunk = minimizes ? Minimizer(maxSteps: min(maxStepsPerKey, 1_000_000), maxTotalSteps: 2_000_000).shrink(ops)
                                       : (operations: ops, isMinimal: false)
                result.violations.append(Violation(key: key, operations: shrunk.operations, blocked: ops[compiled[blocked].source],
                                                   isMinimal: shrunk.isMinimal))
            }
        }
        return result
    }
}

public struct CheckResult: Sendable, CustomStringConvertible {
    public var violations: [Violation] = []
    /// Keys whose search hit `maxStepsPerKey`.
    public var inconclusiveKeys: [String] = []
    public var operationCount: Int
    public var keyCount: Int

    public var isLinearizable: Bool { violations.isEmpty && inconclusiveKeys.isEmpty }

    public var description: String {
        var lines = ["\(operationCount) operations on \(keyCount) keys: "
            + (isLinearizable ? "linearizable" : "\(violations.count) keys not linearizable, \(inconclusiveKeys.count) inconclusive")]
        lines += violations.map(\.description)
        if !inconclusiveKeys.isEmpty { lines.append("inconclusive (search bound reached): \(inconclusiveKeys.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}

/// Operations on one key that cannot be put in any order consistent with
/// both their real-time order and a register's behaviour.
public struct Violation: Sendable, CustomStringConvertible {
    public let key: String
    /// Sorted by invocation; never empty, and always a proof: no history
    /// containing these operations is linearizable. When `isMinimal`, the
    /// shrinking ran to completion: dropping any one of them (or, for a
    /// write, making its outcome unknown) lets the rest be ordered.
    public let operations: [Operation]
    /// The op whose return the deepest partial linearization of the whole
    /// key's history could not get past (for an anomaly: its last op).
    public let blocked: Operation
    public let isMinimal: Bool

    init(key: String, operations: [Operation], blocked: Operation, isMinimal: Bool) {
        self.key = key
        self.operations = operations.sorted { ($0.invokeNs, $0.id) < ($1.invokeNs, $1.id) }
        self.blocked = blocked
        self.isMinimal = isMinimal
    }

    public var description: String {
        let what = "these \(operations.count) operations cannot be ordered" + (isMinimal ? "" : " (not fully shrunk)")
        return (["key \(key): \(what) (the search got stuck at \(blocked)):"] + operations.map { "  \($0)" })
            .joined(separator: "\n")
    }
}
