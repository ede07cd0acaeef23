/// The application's handle on one Raft node (as etcd's RawNode): feed it
/// ticks, messages and requests; drain `ready()`, do the work, `advance()`.
/// Not thread-safe: one owner drives it. A value wrapping a reference: copies
/// share the node.
public struct RawNode {
    let raft: RaftCore
    private var prevSoftState: SoftState
    private var prevHardState: HardState

    public init(config: RaftConfig, storage: RaftStorage) throws {
        raft = try RaftCore(config: config, storage: storage)
        prevSoftState = raft.softState
        prevHardState = raft.hardState
        campaignIfSoleVoter()
    }

    /// Initialises a brand-new cluster member with `peers` as the initial voters
    /// (as etcd's Bootstrap): appends one committed conf change entry per peer
    /// at term 1. The application applies them like any committed entry.
    public mutating func bootstrap(peers: [UInt64]) throws {
        guard !peers.isEmpty else { throw RaftError.invalidConfig("bootstrap needs peers") }
        guard raft.log.lastIndex == 0, raft.term == 0 else { throw RaftError.alreadyBootstrapped }
        raft.becomeFollower(term: 1, lead: 0)
        var ents: [Entry] = []
        for (i, p) in peers.enumerated() {
            let cc = ConfChange(type: .addNode, nodeID: p)
            ents.append(Entry(term: 1, index: UInt64(i + 1), type: .confChange, data: cc.encoded()))
        }
        raft.log.append(ents[...])
        raft.log.committed = UInt64(ents.count)
        for p in peers { _ = raft.applyConfChange(ConfChange(type: .addNode, nodeID: p)) }
    }

    /// A single-voter cluster needs no election timeout: it elects itself as
    /// soon as nothing (an unapplied conf change) stands in the way.
    private func campaignIfSoleVoter() {
        guard raft.role == .follower, raft.prs.voters == [raft.id] else { return }
        try? raft.step(Message(type: .hup, from: raft.id))
    }

    /// Advances the logical clock by one tick.
    public mutating func tick() { raft.tick() }

    /// Starts an election now (PreVote first if enabled).
    public mutating func campaign() throws {
        try raft.step(Message(type: .hup, from: raft.id))
    }

    /// The leader this node knows of (0: none, e.g. during an election).
    public var leader: UInt64 { raft.lead }

    /// Proposes data to be appended; throws `.proposalDropped` if there is no
    /// leader to take it (the caller retries).
    public mutating func propose(_ data: [UInt8]) throws {
        try raft.step(Message(type: .prop, from: raft.id, entries: [Entry(term: 0, index: 0, data: data)]))
    }

    public mutating func proposeConfChange(_ cc: ConfChange) throws {
        try raft.step(Message(type: .prop, from: raft.id,
                              entries: [Entry(term: 0, index: 0, type: .confChange, data: cc.encoded())]))
    }

    /// Applies a committed conf change; returns the new configuration.
    @discardableResult
    public mutating func applyConfChange(_ cc: ConfChange) -> ConfState {
        raft.applyConfChange(cc)
    }

    /// Delivers a message from a peer.
    public mutating func step(_ m: Message) throws {
        guard !m.type.isLocal else { throw RaftError.stepLocalMessage }
        if m.type.isResponse && raft.prs.progress[m.from] == nil { throw RaftError.stepPeerNotFound }
        try raft.step(m)
    }

    /// Requests a linearizable read; the answer comes as a `ReadState` with the
    /// same (unique, non-empty) context in a later Ready. Dropped silently when
    /// there is no leader: the caller times out and retries.
    public mutating func readIndex(context: [UInt8]) {
        try? raft.step(Message(type: .readIndex, from: raft.id, context: context))
    }

    /// Asks the leader to hand leadership to `to` (TimeoutNow once caught up).
    public mutating func transferLeader(to transferee: UInt64) {
        try? raft.step(Message(type: .transferLeader, from: transferee))
    }

    public mutating func reportUnreachable(_ id: UInt64) {
        try? raft.step(Message(type: .unreachable, from: id))
    }

    public mutating func reportSnapshot(_ id: UInt64, failed: Bool) {
        try? raft.step(Message(type: .snapStatus, from: id, reject: failed))
    }

    /// Whether this node leads now (it may change with any step).
    public var isLeader: Bool { raft.role == .leader }
    /// The current term (it may change with any step).
    public var term: UInt64 { raft.term }
    /// The commit index, without building a whole `status()`.
    public var commitIndex: UInt64 { raft.log.committed }
    /// On a leader that may answer its followers' ReadIndex requests
    /// without a heartbeat round: what answers them off the loop.
    public var readIndexGrant: ReadIndexGrant? { raft.readIndexGrant }

    /// Whether the application may step `m` between `ready()` and
    /// `advance(_:)` while it persists that Ready: on a leader, only
    /// acknowledgements and forwarded requests of its term or an older one.
    /// None of them can end its leadership, so no newer term (and no
    /// conflicting append) reaches the node while it persists the old one.
    public func mayStepWhilePersisting(_ m: Message) -> Bool {
        guard raft.role == .leader, m.term <= raft.term else { return false }
        switch m.type {
        case .appResp, .heartbeatResp, .prop, .readIndex: return true
        default: return false
        }
    }

    /// The messages that may leave now instead of with the next `Ready`,
    /// removed from the node: all of a leader's (they promise nothing about
    /// its own disk; batched appends and read heartbeats are flushed first),
    /// otherwise only the kinds that promise nothing about this node's disk
    /// (`MessageType.sendsBeforePersisting`). Callable between `ready()` and
    /// `advance(_:)`, so replication goes on while a `Ready` is persisted;
    /// the node still hands out committed entries only once they are
    /// durable here (`advance` reported them stable).
    public mutating func takeEarlyMessages() -> [Message] {
        let r = raft
        if r.role == .leader {
            r.flushBroadcast()
            guard !r.msgs.isEmpty else { return [] }
            defer { r.msgs.removeAll(keepingCapacity: true) }
            return r.msgs
        }
        guard r.msgs.contains(where: { $0.type.sendsBeforePersisting }) else { return [] }
        let (early, rest) = r.msgs.splitBySendsBeforePersisting()
        r.msgs = rest
        return early
    }

    public func hasReady() -> Bool {
        let r = raft
        r.flushBroadcast()
        if r.softState != prevSoftState { return true }
        let hs = r.hardState
        if !hs.isEmpty && hs != prevHardState { return true }
        return r.log.hasPendingSnapshot || !r.log.unstable.entries.isEmpty || !r.msgs.isEmpty
            || !r.readStates.isEmpty || r.log.hasNextEntries()
    }

    /// Collects the work for the application; call `advance` when done.
    /// Messages and read states are handed out exactly once.
    public mutating func ready() -> Ready {
        let r = raft
        r.flushBroadcast()
        var rd = Ready(entries: r.log.unstable.entries, snapshot: r.log.unstable.snapshot,
                       committedEntries: r.log.nextEntries(), messages: r.msgs, readStates: r.readStates)
        let ss = r.softState
        if ss != prevSoftState {
            if ss.lead != prevSoftState.lead {
                r.record(.leaderChanged(from: prevSoftState.lead, to: ss.lead, term: r.term))
            }
            rd.softState = ss
            prevSoftState = ss
        }
        let hs = r.hardState
        if hs != prevHardState {
            rd.hardState = hs
            rd.mustSync = hs.term != prevHardState.term || hs.vote != prevHardState.vote
            prevHardState = hs
        }
        rd.mustSync = rd.mustSync || !rd.entries.isEmpty || rd.snapshot != nil
        r.msgs.removeAll(keepingCapacity: true)
        r.readStates.removeAll()
        return rd
    }

    /// Acknowledges that `rd` was handled: its entries and snapshot are durable
    /// and its committed entries applied.
    public mutating func advance(_ rd: Ready) {
        let r = raft
        if let snap = rd.snapshot {
            r.log.stableSnapTo(snap.metadata.index)
            r.log.appliedTo(snap.metadata.index)
        }
        if let last = rd.entries.last {
            r.log.stableTo(last.index, last.term)
        }
        if let last = rd.committedEntries.last {
            r.log.appliedTo(last.index)
            var size = 0
            for e in rd.committedEntries where e.term == r.term { size += e.data.count }
            r.uncommittedSizeBytes = max(0, r.uncommittedSizeBytes - size)
        }
        r.stableAdvanced()
        campaignIfSoleVoter()
    }

    /// The decisions recorded since the last call, oldest first (empty
    /// unless `RaftConfig.recordEvents`); log each with `text(localID:)`.
    public mutating func takeEvents() -> [RaftEvent] {
        let r = raft
        guard !r.events.isEmpty else { return [] }
        defer { r.events.removeAll(keepingCapacity: true) }
        return r.events
    }

    public func status() -> RaftStatus {
        let r = raft
        var progress: [UInt64: ProgressStatus] = [:]
        if r.role == .leader {
            for (id, p) in r.prs.progress {
                progress[id] = ProgressStatus(match: p.match, next: p.next, state: p.state,
                                              isLearner: p.isLearner, recentActive: p.recentActive)
            }
        }
        return RaftStatus(id: r.id, lead: r.lead, term: r.term, vote: r.vote, commit: r.log.committed,
                          applied: r.log.applied, role: r.role, leadTransferee: r.leadTransferee,
                          confState: r.prs.confState, progress: progress)
    }

    // MARK: inspection (simulator and tests)

    /// The node's whole log view (stable + unstable) from its first index.
    public var firstIndex: UInt64 { raft.log.firstIndex }
    public var lastIndex: UInt64 { raft.log.lastIndex }
    /// Term of the entry at `index`, nil if compacted or past the end.
    public func term(at index: UInt64) -> UInt64? { raft.log.term(index) }
}
