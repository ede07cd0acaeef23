/// A small deterministic PRNG (SplitMix64): each node owns one, seeded from
/// the config, so runs replay exactly. The program's other seeded users
/// share `Support.SplitMix64`; Raft keeps this copy to import nothing.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below n: Int) -> Int { Int(next() % UInt64(n)) }
}
