/// Runs many seeds; shared by the `raft-sim` command and the test suite.
public enum SimRunner {
    /// Per-seed configuration: the cluster size (3–5) derives from the seed.
    public static func config(seed: UInt64, trace: Bool = false) -> SimConfig {
        var c = SimConfig()
        var r = SimRandom(seed: seed ^ 0xC1)
        c.initialNodes = r.inRange(3...5)
        c.trace = trace
        return c
    }

    public static func runSeed(_ seed: UInt64, trace: Bool = false, adjust: (inout SimConfig) -> Void = { _ in }) -> SimOutcome {
        var c = config(seed: seed, trace: trace)
        adjust(&c)
        return Simulator(seed: seed, config: c).run()
    }

    public static func replayCommand(_ seed: UInt64) -> String { "make sim SEED=\(seed) TRACE=1" }
}
