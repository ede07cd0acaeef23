import Support

/// The simulator's single source of randomness (SplitMix64): every choice of a
/// run derives from the seed, so `--seed S` replays it exactly.
public struct SimRandom {
    private var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed &+ 0x5851_F42D_4C95_7F2D) }

    public mutating func next() -> UInt64 { rng.next() }

    /// Uniform in 0..<n.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// Uniform in the closed range.
    public mutating func inRange(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }

    /// True with probability `p` (0...1).
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    public mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[below(items.count)]
    }
}
