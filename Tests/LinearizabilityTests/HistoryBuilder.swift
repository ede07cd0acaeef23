@testable import Linearizability

/// Writes hand-made histories tersely: times are plain integers (ns), a
/// `nil` return means the outcome is unknown.
struct HistoryBuilder {
    var ops: [Operation] = []

    private mutating func add(_ key: String, _ call: Operation.Call, _ outcome: Operation.Outcome,
                              _ invoke: Int64, _ end: Int64?, client: Int) {
        ops.append(Operation(id: ops.count + 1, client: client, key: key, call: call,
                             outcome: end == nil ? .unknown : outcome, invokeNs: invoke, returnNs: end))
    }

    mutating func put(_ value: String, _ invoke: Int64, _ end: Int64?, key: String = "x", client: Int = 0) {
        add(key, .put(value: value), .ok, invoke, end, client: client)
    }

    /// `read`: the value returned, `nil` for an absent key.
    mutating func get(_ read: String?, _ invoke: Int64, _ end: Int64, key: String = "x", client: Int = 0) {
        add(key, .get, .read(read), invoke, end, client: client)
    }

    /// `swapped: nil` with `end: nil` records an unknown outcome.
    mutating func cas(_ expected: String, _ new: String, swapped: Bool?, _ invoke: Int64, _ end: Int64?,
                      key: String = "x", client: Int = 0) {
        add(key, .compareAndSet(expected: expected, new: new), swapped.map { .swapped($0) } ?? .unknown,
            invoke, end, client: client)
    }

    func check(_ checker: LinearizabilityChecker = LinearizabilityChecker()) -> CheckResult { checker.check(ops) }
}
