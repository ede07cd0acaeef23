/// Parameters of one Raft node. All durations are in ticks: the application
/// decides how long a tick is (swift-etcd: 100 ms), the core never reads a clock.
public struct RaftConfig: Sendable {
    /// This node's id; never 0.
    public var id: UInt64
    /// A follower that hears nothing from a leader for a random number of ticks
    /// in [electionTicks, 2*electionTicks) starts an election.
    public var electionTicks: Int
    /// The leader sends heartbeats every `heartbeatTicks`; must be < electionTicks.
    public var heartbeatTicks: Int
    /// Upper bound on the bytes of entry data in one append message (at least one
    /// entry is always sent). `Int.max` for no limit, 0 for one entry per message.
    public var maxSizePerMsg: Int
    /// Upper bound on append messages in flight to one follower in replicate state.
    public var maxInflightMsgs: Int
    /// Upper bound on the bytes of uncommitted entries the leader accepts before
    /// dropping proposals (0: no limit).
    public var maxUncommittedEntriesSizeBytes: Int
    /// A leader that has not heard from a quorum during an election timeout steps down.
    public var checkQuorum: Bool
    /// Run a pre-election (thesis 9.6) so a partitioned node does not disrupt
    /// the cluster with higher terms when it comes back.
    public var preVote: Bool
    /// Serve ReadIndex from the leader's lease (CheckQuorum) without a
    /// heartbeat round: faster, but relies on bounded clock drift. Off by default.
    public var readOnlyLeaseBased: Bool
    /// The last applied index when restarting (entries up to it are not returned again).
    public var applied: UInt64
    /// Seed of this node's private PRNG (randomized election timeouts).
    public var randomSeed: UInt64
    /// Record `RaftEvent`s for the application to log (`RawNode.takeEvents()`).
    /// Off by default: a caller that never drains them pays nothing.
    public var recordEvents: Bool
    /// Test-only: plants known bugs so the simulator can prove it catches them.
    public var testingFaults: RaftTestingFaults

    public init(
        id: UInt64,
        electionTicks: Int = 10,
        heartbeatTicks: Int = 1,
        maxSizePerMsg: Int = 1 << 20,
        maxInflightMsgs: Int = 256,
        maxUncommittedEntriesSizeBytes: Int = 0,
        checkQuorum: Bool = true,
        preVote: Bool = true,
        readOnlyLeaseBased: Bool = false,
        applied: UInt64 = 0,
        randomSeed: UInt64 = 0,
        recordEvents: Bool = false,
        testingFaults: RaftTestingFaults = RaftTestingFaults()
    ) {
        self.id = id
        self.electionTicks = electionTicks
        self.heartbeatTicks = heartbeatTicks
        self.maxSizePerMsg = maxSizePerMsg
        self.maxInflightMsgs = maxInflightMsgs
        self.maxUncommittedEntriesSizeBytes = maxUncommittedEntriesSizeBytes
        self.checkQuorum = checkQuorum
        self.preVote = preVote
        self.readOnlyLeaseBased = readOnlyLeaseBased
        self.applied = applied
        self.randomSeed = randomSeed
        self.recordEvents = recordEvents
        self.testingFaults = testingFaults
    }

    func validate() throws {
        guard id != 0 else { throw RaftError.invalidConfig("id must not be 0") }
        guard heartbeatTicks > 0 else { throw RaftError.invalidConfig("heartbeatTicks must be > 0") }
        guard electionTicks > heartbeatTicks else {
            throw RaftError.invalidConfig("electionTicks must be > heartbeatTicks")
        }
        guard !readOnlyLeaseBased || checkQuorum else {
            throw RaftError.invalidConfig("readOnlyLeaseBased needs checkQuorum")
        }
        guard maxInflightMsgs > 0 else { throw RaftError.invalidConfig("maxInflightMsgs must be > 0") }
    }
}

/// Deliberate bugs, off by default; only the simulator's self-test turns them on.
public struct RaftTestingFaults: Sendable, Hashable {
    /// Commit entries of previous terms by counting replicas (violates §5.4.2).
    public var commitPreviousTermByCounting: Bool
    /// Grant votes without the up-to-date log check (violates §5.4.1).
    public var voteIgnoringLog: Bool
    /// A new leader does not append its empty entry (alone this is safe, only
    /// slower; with `commitPreviousTermByCounting` it opens Figure 8 wide).
    public var skipEmptyEntryOnElection: Bool

    public init(commitPreviousTermByCounting: Bool = false, voteIgnoringLog: Bool = false,
                skipEmptyEntryOnElection: Bool = false) {
        self.commitPreviousTermByCounting = commitPreviousTermByCounting
        self.voteIgnoringLog = voteIgnoringLog
        self.skipEmptyEntryOnElection = skipEmptyEntryOnElection
    }
}
