/// Knobs of one simulation run.
public struct SimConfig: Sendable {
    public var initialNodes = 3
    /// Ticks with faults, then ticks of calm in which liveness must be shown.
    public var faultTicks = 300
    public var livenessTicks = 400
    public var microstepsPerTick = 5
    public var trace = false
    /// Print trace lines as they happen (so a crash still shows the trace).
    public var printTrace = false
    /// Plant known bugs (self-test of the checker).
    public var plantCommitPreviousTermBug = false
    public var plantVoteIgnoringLogBug = false
    public var plantSkipEmptyEntry = false
    /// The application keeps its `ReadIndexGrant` when the node no longer
    /// gives one (leadership lost), instead of withdrawing it.
    public var plantKeepStaleGrant = false

    public init() {}
}

/// The result of one seed.
public struct SimOutcome: Sendable {
    public var seed: UInt64
    /// nil when every check passed.
    public var failure: String?
    public var trace: [String]
    public var committedEntries: Int
    public var stats: [String: Int]
}
