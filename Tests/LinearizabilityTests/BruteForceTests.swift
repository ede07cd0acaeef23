import Support
import Testing
@testable import Linearizability

/// The checker against the definition, on small random histories over a
/// tiny value pool (so values repeat, results are often impossible and the
/// checker's shortcuts — garbage writes, bounded unknown writes — are all
/// exercised): both must agree on every history.
@Suite struct BruteForceTests {
    /// Linearizable iff some order of the ops respects real time (a definite
    /// op that returned before another was invoked comes first) and the
    /// register; an unknown op may also never happen.
    static func bruteForce(_ ops: [Operation]) -> Bool {
        func search(_ remaining: [Operation], _ state: String?) -> Bool {
            if remaining.allSatisfy({ $0.outcome == .unknown }) { return true }
            for (i, op) in remaining.enumerated() {
                let blocked = remaining.contains { other in
                    other.outcome != .unknown && (other.returnNs ?? .max) < op.invokeNs
                }
                guard !blocked else { continue }
                var next: String?? = nil
                switch (op.call, op.outcome) {
                case (.put(let v), _): next = .some(v)
                case (.get, .read(let v)): if v == state { next = .some(state) }
                case (.compareAndSet(let e, let n), .swapped(true)): if state == e { next = .some(n) }
                case (.compareAndSet(let e, _), .swapped(false)): if state != e { next = .some(state) }
                case (.compareAndSet(let e, let n), .unknown): next = .some(state == e ? n : state)
                default: break
                }
                var rest = remaining
                rest.remove(at: i)
                if let next, search(rest, next) { return true }
            }
            return false
        }
        return search(ops, nil)
    }

    @Test func agreesWithTheDefinition() {
        var rng = SplitMix64(seed: 42)
        let pool = ["a", "b", "c"]
        var verdicts = (yes: 0, no: 0)
        for round in 0..<1500 {
            var ops: [Operation] = []
            for id in 0..<Int.random(in: 1...7, using: &rng) {
                let invoke = Int64.random(in: 0...40, using: &rng)
                let end = invoke + Int64.random(in: 0...15, using: &rng)
                let unknown = Int.random(in: 0..<4, using: &rng) == 0
                let value = pool.randomElement(using: &rng)!
                let call: Operation.Call
                let outcome: Operation.Outcome
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    call = .put(value: value)
                    outcome = unknown ? .unknown : .ok
                case 1:
                    call = .get
                    outcome = .read(Bool.random(using: &rng) ? nil : pool.randomElement(using: &rng)!)
                default:
                    call = .compareAndSet(expected: pool.randomElement(using: &rng)!, new: value)
                    outcome = unknown ? .unknown : .swapped(Bool.random(using: &rng))
                }
                let isUnknown = outcome == .unknown
                ops.append(Operation(id: id, client: id, key: "x", call: call, outcome: outcome,
                                     invokeNs: invoke, returnNs: isUnknown ? nil : end))
            }
            let expected = Self.bruteForce(ops)
            let result = LinearizabilityChecker().check(ops)
            #expect(result.isLinearizable == expected, "round \(round): \(ops.map(\.description))")
            if !expected {
                // Any explanation must itself be non-linearizable.
                let witness = result.violations.first?.operations ?? []
                #expect(!witness.isEmpty && !Self.bruteForce(witness), "round \(round): \(result)")
            }
            if expected { verdicts.yes += 1 } else { verdicts.no += 1 }
        }
        #expect(verdicts.yes > 50 && verdicts.no > 50, "\(verdicts)")
    }
}
