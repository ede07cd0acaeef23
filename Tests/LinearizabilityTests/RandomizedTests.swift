import Support
import Testing
@testable import Linearizability

/// Histories generated from a real register: each op takes effect at a
/// known instant and its interval is stretched randomly around it, so the
/// history is linearizable by construction; corrupting one read usually
/// makes it not.
@Suite struct RandomizedTests {
    struct Generator {
        var rng: SplitMix64
        var keys = 10
        var clients = 8
        /// Ops take effect `spacingNs` apart; intervals reach up to `overlapNs` either side.
        var spacingNs: Int64 = 10
        var overlapNs: Int64 = 60
        /// Share of writes whose outcome is recorded as unknown (half of those never applied).
        var unknownPercent = 8

        init(seed: UInt64) { rng = SplitMix64(seed: seed) }

        mutating func history(count: Int) -> [Operation] {
            var register: [String: String] = [:]
            var written: [String: [String]] = [:]
            var ops: [Operation] = []
            for i in 0..<count {
                let key = "k\(Int.random(in: 0..<keys, using: &rng))"
                let at = Int64(i + 1) * spacingNs + overlapNs
                let invoke = at - Int64.random(in: 0...overlapNs, using: &rng)
                var end: Int64? = at + Int64.random(in: 0...overlapNs, using: &rng)
                let value = "v\(i)"
                let unknown = Int.random(in: 0..<100, using: &rng) < unknownPercent
                let applied = !unknown || Bool.random(using: &rng)
                let call: Operation.Call
                var outcome: Operation.Outcome
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<4:
                    call = .get
                    outcome = .read(register[key])
                case 4..<7:
                    call = .put(value: value)
                    outcome = .ok
                    if applied { register[key] = value }
                default:
                    let history = written[key] ?? []
                    let expected = Bool.random(using: &rng) || history.isEmpty
                        ? register[key] ?? "none" : history.randomElement(using: &rng)!
                    call = .compareAndSet(expected: expected, new: value)
                    let swaps = register[key] == expected
                    outcome = .swapped(swaps)
                    if swaps && applied { register[key] = value }
                }
                if call != .get { written[key, default: []].append(value) }
                if unknown, call != .get { outcome = .unknown; end = nil }
                ops.append(Operation(id: i, client: Int.random(in: 0..<clients, using: &rng), key: key, call: call,
                                     outcome: outcome, invokeNs: invoke, returnNs: end))
            }
            return ops.shuffled(using: &rng)
        }
    }

    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func generatedHistoriesAreLinearizable(seed: UInt64) {
        var generator = Generator(seed: seed)
        let history = generator.history(count: 300)
        let result = LinearizabilityChecker().check(history)
        #expect(result.isLinearizable, "seed=\(seed): \(result)")
    }

    /// Replace one read's value by another value of that key (or absent) and
    /// the checker usually objects, naming that key and that read.
    @Test func mutatedReadsAreUsuallyFlagged() throws {
        var flagged = 0, mutated = 0
        for seed in 100..<160 as Range<UInt64> {
            var generator = Generator(seed: seed)
            var history = generator.history(count: 200)
            var rng = SplitMix64(seed: seed)
            let reads = history.indices.filter { if case .read = history[$0].outcome { return true } else { return false } }
            let index = try #require(reads.randomElement(using: &rng))
            guard case .read(let original) = history[index].outcome else { continue }
            let others = Set(history.filter { $0.key == history[index].key }.compactMap(\.writtenValue) + [nil])
                .subtracting([original])
            history[index].outcome = .read(try #require(others.randomElement(using: &rng)))
            mutated += 1
            let result = LinearizabilityChecker().check(history)
            guard let violation = result.violations.first else { continue }
            flagged += 1
            #expect(result.violations.count == 1 && violation.key == history[index].key, "seed=\(seed)")
            #expect(violation.operations.contains { $0.id == history[index].id }, "seed=\(seed): \(violation)")
            // Small, though a stale read through a chain of CASes needs the whole chain.
            #expect(violation.isMinimal && violation.operations.count <= 20, "seed=\(seed): \(violation)")
        }
        #expect(flagged * 10 >= mutated * 7, "only \(flagged) of \(mutated) corrupted reads flagged")
    }

    /// The size the cluster test produces: 2,000 ops, 15 keys, 8 clients,
    /// about ten ops in flight and a few unknown outcomes. The search must
    /// settle it well within its default bound (no wall-clock assertion).
    @Test func twoThousandOperationsAreDecided() throws {
        var generator = Generator(seed: 7)
        generator.keys = 15
        let history = generator.history(count: 2_000)
        let result = LinearizabilityChecker().check(history)
        #expect(result.isLinearizable, "\(result)")

        var corrupted = history
        let index = try #require(corrupted.firstIndex { $0.call == .get && $0.invokeNs > 10_000 })
        corrupted[index].outcome = .read("never-written")
        let flagged = LinearizabilityChecker().check(corrupted)
        #expect(flagged.violations.map { $0.operations.map(\.id) } == [[corrupted[index].id]], "\(flagged)")
    }
}
