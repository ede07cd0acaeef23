import Atomics
import Foundation
import GRPCWire
import Logging
import Raft
import Support
import WAL

/// Sends Raft messages to peers. Single-member clusters use `NoPeers`.
protocol PeerTransport: AnyObject, Sendable {
    func send(_ messages: [Message])
}

final class NoPeers: PeerTransport {
    func send(_ messages: [Message]) {}
}

/// What the loop hands committed normal entries to, on the loop thread, in
/// log order. Conf change entries are applied by the loop itself.
protocol CommittedEntryApplier: AnyObject {
    func apply(_ entries: [Entry], term: UInt64)
    /// Applies entries that are not committed yet but will be once the
    /// fsync running meanwhile returns, without making anything visible:
    /// nil if it cannot (they are then applied the usual way once committed).
    func prepare(_ entries: [Entry], term: UInt64) -> PreparedApply?
}

extension CommittedEntryApplier {
    func prepare(_ entries: [Entry], term: UInt64) -> PreparedApply? { nil }
}

/// Entries applied ahead of their commit (`CommittedEntryApplier.prepare`):
/// `finish` makes them visible and answers their proposers (only after
/// their fsync returned); `abort` drops them. Exactly one runs, on the loop thread.
struct PreparedApply {
    let finish: () -> Void
    let abort: () -> Void
}

/// A consistent view of the node for Status and headers.
struct NodeStatus: Sendable {
    var memberID: UInt64
    var leader: UInt64
    var term: UInt64
    var commitIndex: UInt64
    var appliedIndex: UInt64
    /// Learner member IDs of the applied configuration.
    var learners: [UInt64] = []
    /// On the leader: each member's replicated index (Raft progress match).
    var matchIndex: [UInt64: UInt64] = [:]
    var isLeader: Bool { leader == memberID && leader != 0 }
}

/// Drives the pure Raft core on one dedicated thread: ticks from a real
/// clock, proposals and ReadIndex requests from any thread, and each `Ready`
/// in the contract's order: persist (WAL, one fdatasync for the whole
/// batch) → send → apply → advance.
///
/// Batching is where throughput comes from: while one Ready is being synced
/// and applied, new proposals queue up in `mailbox` and go into the next
/// Ready together.
final class RaftLoop: @unchecked Sendable {
    private struct Mailbox {
        var proposals: [(id: UInt64, data: [UInt8])] = []
        var reads: [(batch: UInt64, deadline: Date)] = []  // linearizable reads (see ReadIndexBatcher)
        var messages: [Message] = []
        var reports: [PeerReport] = []
        var transfers: [UInt64] = []  // leadership transferees (MoveLeader)
        var confChanges: [(cc: ConfChange, dropped: (ServerError) -> Void)] = []
        /// Extra ticks to run at once (`--initial-election-tick-advance`).
        var advanceTicks = 0
        var stopping = false
        var isEmpty: Bool {
            proposals.isEmpty && reads.isEmpty && messages.isEmpty && reports.isEmpty && transfers.isEmpty
                && confChanges.isEmpty && advanceTicks == 0 && !stopping
        }
    }

    // Loop-thread state: only touched on `thread`.
    private var node: RawNode
    private let storage: MemoryStorage
    private let wal: WAL
    private let snapshots: SnapshotStore
    private let snapshotPolicy: SnapshotPolicy
    private var lastSnapshotIndex: UInt64
    private var confState: ConfState
    private var appliedIndex: UInt64
    /// ReadIndex answers not yet servable: (index, batch id).
    private var pendingReadStates: [(index: UInt64, batch: UInt64)] = []
    private var reads = ReadIndexBatcher()
    private var readInFlightSeen = false
    /// The term in which `LocalReadGate` last opened (0: closed since, or a
    /// conf change was applied).
    private var localReadsOpenedTerm: UInt64 = 0
    /// This node's role as of the last Ready handled (its soft state).
    private var role: RaftRole

    /// Run before WAL segments are released: the store must have made durable
    /// everything up to the snapshot index (it may commit without fsync).
    var beforeLogRelease: () throws -> Void = {}
    /// Runs on the loop thread for a snapshot Raft received from the leader,
    /// before it is persisted: replaces the application state (store,
    /// members, ...) with the snapshot's. Throwing stops the process.
    var installSnapshot: (Snapshot) throws -> Void = { _ in }
    private let tickInterval: TimeInterval
    private let transport: PeerTransport
    /// The apply pipeline (set before `start`); owned here, the only caller.
    var applier: CommittedEntryApplier?
    /// Runs on the loop thread after Raft applied a committed conf change
    /// (set before `start`): the server updates its member table here.
    var confChangeApplied: (ConfChange) -> Void = { _ in }
    /// Runs on the loop thread when a leader different from the last one
    /// known becomes known, with its ID (etcd's leader_changes_seen_total;
    /// the lessor starts or stops its clocks); set before `start`.
    var leaderChanged: (_ leader: UInt64) -> Void = { _ in }
    /// Runs on the loop thread after every tick (set before `start`): the
    /// server expires its waits' deadlines here (`WaitRegistry.expire`).
    var onTick: () -> Void = {}
    private let logger: Logger
    private let raftLog: RaftEventLog
    let memberID: UInt64

    private let condition = NSCondition()
    private var mailbox = Mailbox()  // guarded by `condition`
    private var readBatchSeq: UInt64 = 0  // guarded by `condition`
    /// A ReadIndex is in flight: a new read need not wake the loop, the
    /// answer will (and the read joins the next request). Guarded by `condition`.
    private var readInFlight = false
    /// `persister` finished its job since the loop last looked. Guarded by `condition`.
    private var persistFinished = false
    /// The loop waits for `persister` as the sole voter: a proposal need not
    /// wake it (nobody to send it to; the next Ready takes it either way).
    /// Guarded by `condition`.
    private var persistingAlone = false
    /// Peer messages taken from the mailbox while persisting but not stepped
    /// then (`persistWhileReplicating`): stepped first by the next round.
    private var carriedMessages: [Message] = []

    private let statusLock = NSLock()
    private var publishedStatus: NodeStatus  // guarded by `statusLock`
    /// On a leader: answers its followers' ReadIndex requests as they
    /// arrive (`deliver`), with no hop to the loop. Taken again by the loop
    /// before it sends anything or applies anything (`publishReadGrant`),
    /// as `ReadIndexGrant` requires. Guarded by `statusLock`.
    private var readGrant: ReadIndexGrant?

    /// Called (on the loop thread) for a proposal Raft refused, e.g. no leader.
    private let proposalDropped: (UInt64, ServerError) -> Void
    /// Proposals made while no leader is known, proposed again once one is.
    private var parked = ParkedProposals()
    /// Whether the request of proposal `id` still waits for it (the server
    /// asks its apply waits): a parked proposal nobody waits for is dropped.
    var isWaiting: (UInt64) -> Bool = { _ in true }
    /// ReadIndex batches: triggered once applied ≥ the read index.
    let readWaits = WaitRegistry<UInt64>()
    /// `LocalReadGate.isOpen` as of the loop's last Ready (or conf change):
    /// linearizable reads skip the ReadIndex round while it is set.
    private let readsLocally = ManagedAtomic<Bool>(false)
    private var thread: Thread?
    /// Writes and fsyncs a Ready's entries while the loop applies (`handle`).
    private let persister = PersistWorker()
    /// Open once `run` returned (`stop` waits for it).
    private let stopped = Latch()

    init(node: RawNode, storage: MemoryStorage, wal: WAL, snapshots: SnapshotStore, snapshotPolicy: SnapshotPolicy,
         lastSnapshotIndex: UInt64, confState: ConfState, appliedIndex: UInt64, tickInterval: TimeInterval,
         transport: PeerTransport, memberID: UInt64, logger: Logger,
         proposalDropped: @escaping (UInt64, ServerError) -> Void) {
        self.node = node
        self.storage = storage
        self.wal = wal
        self.snapshots = snapshots
        self.snapshotPolicy = snapshotPolicy
        self.lastSnapshotIndex = lastSnapshotIndex
        self.confState = confState
        self.appliedIndex = appliedIndex
        self.tickInterval = tickInterval
        self.transport = transport
        self.memberID = memberID
        self.proposalDropped = proposalDropped
        self.logger = logger
        self.raftLog = RaftEventLog(logger: logger, localID: memberID)
        let st = node.status()
        role = st.role
        publishedStatus = NodeStatus(memberID: memberID, leader: st.lead, term: st.term,
                                     commitIndex: st.commit, appliedIndex: appliedIndex)
    }

    var status: NodeStatus { statusLock.withLock { publishedStatus } }

    func start() {
        persister.onFinish = { [self] in
            condition.withLock {
                persistFinished = true
                condition.signal()
            }
        }
        persister.startThread(name: "raft-persist")
        let t = Thread.named("raft-loop") { [self] in run() }
        thread = t
        t.start()
    }

    func stop() {
        condition.withLock {
            mailbox.stopping = true
            condition.signal()
        }
        if thread != nil { stopped.wait() }
        readWaits.failAll(ServerError.stopped)
    }

    // MARK: requests from any thread

    func propose(id: UInt64, data: [UInt8]) {
        let wake = condition.withLock {
            mailbox.proposals.append((id, data))
            return !persistingAlone
        }
        // After unlocking: a loop woken while this thread still held the
        // lock would only block on it again (one more sleep and wake-up per
        // proposal). The mailbox changed under the lock, so no wake-up is lost.
        if wake { condition.signal() }
    }

    /// `waitLinearizable` would return at once: the local read gate is open.
    var servesReadsLocally: Bool {
        // Acquiring pairs with the loop's release after the store applied.
        readsLocally.load(ordering: .acquiring)
    }

    /// Waits until this member may serve a linearizable read: the leader
    /// confirmed its commit index and this member applied up to it.
    /// Fails with "request timed out" after `timeoutSeconds`; with no leader
    /// known meanwhile it waits for one (the ReadIndex is resent until one
    /// answers).
    func waitLinearizable(timeoutSeconds: Double) async throws {
        if servesReadsLocally { return }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        let batch = nextReadBatch()
        _ = try await readWaits.wait(id: batch) { queueRead(batch, deadline) }
    }

    /// `waitLinearizable` without a task: `done` runs once, on the Raft loop
    /// thread, with nil when the read may be served or the error
    /// ("request timed out", "server stopped", `CancellationError` once
    /// withdrawn); the returned hook withdraws the wait. The caller checks
    /// `servesReadsLocally` first: this always waits for a ReadIndex round.
    func registerLinearizable(timeoutSeconds: Double,
                              done: @escaping @Sendable (Error?) -> Void) -> @Sendable () -> Void {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        let batch = nextReadBatch()
        let waits = readWaits
        // `queueRead` cannot throw, so `register` does not either.
        try? waits.register(id: batch, done: { result in
            switch result {
            case .success: done(nil)
            case .failure(let error): done(error)
            }
        }) { queueRead(batch, deadline) }
        return { waits.cancel(id: batch) }
    }

    private func nextReadBatch() -> UInt64 {
        condition.withLock { () -> UInt64 in
            readBatchSeq &+= 1
            return readBatchSeq
        }
    }

    /// Hands read `batch` to the loop (woken only when no ReadIndex is in
    /// flight: its answer wakes the loop, and the read joins the next one).
    private func queueRead(_ batch: UInt64, _ deadline: Date) {
        condition.withLock {
            mailbox.reads.append((batch, deadline))
            if !readInFlight { condition.signal() }
        }
    }

    /// A peer transport's report (unreachable peer, failed snapshot).
    func report(_ report: PeerReport) {
        condition.withLock {
            mailbox.reports.append(report)
            condition.signal()
        }
    }

    /// Asks Raft to hand leadership to `transferee` (effective on a leader only;
    /// the caller watches `status.leader` for the outcome).
    func transferLeader(to transferee: UInt64) {
        condition.withLock {
            mailbox.transfers.append(transferee)
            condition.signal()
        }
    }

    /// Proposes a membership change; `dropped` runs (on the loop thread) if
    /// Raft refuses it. Raft takes one change at a time.
    func proposeConfChange(_ cc: ConfChange, dropped: @escaping (ServerError) -> Void) {
        condition.withLock {
            mailbox.confChanges.append((cc, dropped))
            condition.signal()
        }
    }

    /// Fast-forwards Raft's logical clock by `ticks` (etcd's advanceTicks):
    /// a freshly started follower then campaigns after a tick or two
    /// instead of a whole election timeout.
    func advanceTicks(_ ticks: Int) {
        condition.withLock {
            mailbox.advanceTicks += max(0, ticks)
            condition.signal()
        }
    }

    /// Peer messages, on the connection's thread. On a leader, a follower's
    /// ReadIndex that its `ReadIndexGrant` answers is answered here, so a
    /// stream of follower reads does not wake the loop once per request.
    func deliver(_ messages: [Message]) {
        var rest = messages
        if messages.contains(where: { $0.type == .readIndex }), let grant = statusLock.withLock({ readGrant }) {
            var answers: [Message] = []
            rest.removeAll { m in
                guard let answer = grant.answer(m) else { return false }
                answers.append(answer)
                return true
            }
            if !answers.isEmpty { transport.send(answers) }
            if rest.isEmpty { return }
        }
        condition.withLock {
            mailbox.messages.append(contentsOf: rest)
            condition.signal()
        }
    }

    // MARK: the loop

    private func run() {
        var nextTick = Date().addingTimeInterval(tickInterval)
        campaignIfAlone()
        while true {
            // A pending Ready (say, entries committed by the last one) does
            // not wait: it goes out with whatever the mailbox holds now, so
            // new proposals' fsync overlaps their predecessors' apply.
            let readyPending = node.hasReady()
            let work: Mailbox = condition.withLock {
                while mailbox.isEmpty && !readyPending && Date() < nextTick { _ = condition.wait(until: nextTick) }
                let taken = mailbox
                mailbox = Mailbox(stopping: mailbox.stopping)
                return taken
            }
            if work.stopping { break }
            let now = Date()
            if now >= nextTick {
                node.tick()
                nextTick = now.addingTimeInterval(tickInterval)
                for batch in reads.tick(now: now) { readWaits.trigger(id: batch, .failure(ServerError.timeout)) }
                onTick()
                if !parked.isEmpty { parked.prune(keeping: isWaiting) }
            }
            for _ in 0..<work.advanceTicks { node.tick() }
            if !carriedMessages.isEmpty {
                for m in carriedMessages { try? node.step(m) }
                carriedMessages.removeAll()
            }
            for m in work.messages { try? node.step(m) }
            for r in work.reports {
                switch r {
                case .unreachable(let id): node.reportUnreachable(id)
                case .snapshotSent(let id): node.reportSnapshot(id, failed: false)
                case .snapshotFailed(let id): node.reportSnapshot(id, failed: true)
                }
            }
            if !parked.isEmpty && node.leader != 0 {
                for p in parked.takeAll() { proposeOrPark(p) }
            }
            for p in work.proposals { proposeOrPark(p) }
            for t in work.transfers { node.transferLeader(to: t) }
            for c in work.confChanges {
                do { try node.proposeConfChange(c.cc) } catch { c.dropped(ServerError.from(raft: error, leaderKnown: node.leader != 0)) }
            }
            reads.enqueue(work.reads)
            if node.hasReady() { handle(node.ready()) }
            requestReadIndex()
            raftLog.log(node.takeEvents())
        }
        // The last commit-only hard states were queued unsynced: a graceful
        // stop writes them, so the saved commit index covers what was applied.
        do { try wal.syncQueued() } catch {
            logger.warning("failed to sync the raft hard state before stopping", metadata: ["error": "\(error)"])
        }
        persister.stop()
        stopped.open()
    }

    /// Whether proposal `id` waits parked for a leader. Loop thread only
    /// (`onTick`): its request's expiry then answers as etcd's does.
    func isParked(_ id: UInt64) -> Bool { parked.contains(id) }

    /// Proposes `p`; parks it while no leader is known (etcd's proposals wait
    /// for a leader), else a refusal fails its request.
    private func proposeOrPark(_ p: (id: UInt64, data: [UInt8])) {
        do { try node.propose(p.data) } catch {
            if case RaftError.proposalDropped = error, node.leader == 0, parked.park(p) { return }
            proposalDropped(p.id, ServerError.from(raft: error, leaderKnown: node.leader != 0))
        }
    }

    /// Sends the next ReadIndex if reads wait and none is in flight: its
    /// context names the newest read, and its answer serves every read up to it.
    private func requestReadIndex() {
        if let newest = reads.nextRequest() {
            node.readIndex(context: Self.readContext(batch: newest, memberID: memberID))
            while node.hasReady() { handle(node.ready()) }
        }
        let inFlight = reads.inFlight != nil
        if inFlight != readInFlightSeen {
            readInFlightSeen = inFlight
            condition.withLock { readInFlight = inFlight }
        }
    }

    /// The leader keys pending reads by context, so contexts must differ
    /// between members (batch numbers alone collide and the leader drops the
    /// duplicate): batch ‖ member ID, 8 bytes big-endian each.
    static func readContext(batch: UInt64, memberID: UInt64) -> [UInt8] {
        batch.bigEndianBytes + memberID.bigEndianBytes
    }

    static func readBatch(ofContext context: [UInt8]) -> UInt64 { UInt64(bigEndianBytes: context.prefix(8)) }

    /// The (read index, batch) answers in `readStates` for this member's
    /// reads. Another member's answer can come here (the leader it asked
    /// stepped down and forwarded its request as this member's): its batch
    /// numbers are not ours, so it serves nothing.
    static func ownReads(_ readStates: [ReadState], memberID: UInt64) -> [(index: UInt64, batch: UInt64)] {
        readStates.compactMap { rs in
            guard rs.context.count == 16, UInt64(bigEndianBytes: rs.context.suffix(8)) == memberID else { return nil }
            return (rs.index, readBatch(ofContext: rs.context))
        }
    }

    /// A sole voter need not wait an election timeout (start-up, restart).
    private func campaignIfAlone() {
        while node.hasReady() { handle(node.ready()) }
        if confState.voters == [memberID] && node.status().lead == 0 { try? node.campaign() }
        while node.hasReady() { handle(node.ready()) }
        raftLog.log(node.takeEvents())
    }

    private func handle(_ rd: Ready) {
        raftLog.log(node.takeEvents())  // the decisions this Ready carries out, first
        publishReadGrant()  // before this Ready sends or applies anything
        if let soft = rd.softState { role = soft.role }
        // A leader's messages promise nothing about its own disk (its copy
        // counts towards a quorum only after `advance`), so they go out
        // before its fsync and the followers' fsyncs overlap the leader's,
        // as etcd does (Raft thesis 10.2.1). Anyone else's may acknowledge
        // what this Ready persists: they wait for the fsync.
        // A follower's forwarded proposals, ReadIndex requests and heartbeat
        // acknowledgements promise nothing either (`sendsBeforePersisting`):
        // they leave now, not after the entries this Ready persists.
        var late: [Message] = []
        if role == .leader || !rd.mustSync {
            if !rd.messages.isEmpty { transport.send(rd.messages) }
        } else {
            let early: [Message]
            (early, late) = rd.messages.splitBySendsBeforePersisting()
            if !early.isEmpty { transport.send(early) }
        }
        // Committed entries are durable already (the Ready contract), so
        // applying them needs nothing this Ready persists: the WAL write and
        // fsync run on `persister` meanwhile. Not with a snapshot (it
        // replaces what is applied).
        // Without a snapshot, the WAL write and fsync run on `persister`
        // while the loop keeps replicating (`persistWhileReplicating`).
        // A sole voter's new entries are committed as soon as they are
        // durable: they are applied during their WAL write's device I/O into
        // an open store txn (nothing visible, nobody answered) that is
        // committed only once the fsync returned (`prepared`); the WAL's hard
        // state then already says they are committed, so the store is never
        // ahead of it.
        let speculate = appliesDuringSync(rd)
        let background = !speculate && rd.mustSync && (rd.snapshot?.isEmpty ?? true)
        let overlap = background && !rd.committedEntries.isEmpty
        var prepared: PreparedApply?
        if background {
            let wal = self.wal, hardState = rd.hardState, entries = rd.entries
            persister.start { try wal.save(hardState: hardState, entries: entries) }
        }
        if overlap { apply(rd.committedEntries) }
        do {
            if let snap = rd.snapshot, !snap.isEmpty {
                // The store first: a crash before the WAL marker leaves the old
                // Raft state with a store that is ahead, whose replay skips
                // what the store holds; the leader then sends again.
                try installSnapshot(snap)
                try snapshots.save(snap)
                try wal.saveSnapshotMarker(WALSnapshotMarker(index: snap.metadata.index, term: snap.metadata.term))
                try storage.applySnapshot(snap)
                confState = snap.metadata.confState
                lastSnapshotIndex = snap.metadata.index
                appliedIndex = snap.metadata.index
            }
            if speculate {
                // On this thread (a hand-over to `persister` costs two
                // wake-ups, more than the apply work it would hide).
                var hardState = rd.hardState ?? storage.hardState
                hardState.commit = max(hardState.commit, rd.entries[rd.entries.count - 1].index)
                let term = node.term
                try wal.save(hardState: hardState, entries: rd.entries) { prepared = applier?.prepare(rd.entries, term: term) }
            } else if background {
                try persistWhileReplicating()
            } else if rd.mustSync {
                try wal.save(hardState: rd.hardState, entries: rd.entries)
            } else if let hs = rd.hardState {
                // Only the commit index moved: no fsync needed (etcd's MustSync).
                try wal.saveUnsynced(hardState: hs)
            }
            if !rd.entries.isEmpty { try storage.append(rd.entries) }
            if let hs = rd.hardState { storage.setHardState(hs) }
        } catch {
            prepared?.abort()
            // A failed fsync leaves the WAL in an unknown state: never carry on.
            logger.critical("failed to persist raft state", metadata: ["error": "\(error)"])
            ProcessStop.fatal("failed to persist raft state: \(error)")
        }
        if !late.isEmpty { transport.send(late) }
        if let prepared {
            AnswerBatch.collect { prepared.finish() }
            appliedIndex = max(appliedIndex, rd.entries[rd.entries.count - 1].index)
        }
        if !overlap { apply(rd.committedEntries) }
        for (index, batch) in Self.ownReads(rd.readStates, memberID: memberID) {
            reads.answered(batch)
            pendingReadStates.append((index, batch))
        }
        answerReads()
        if rd.softState != nil {
            // The leader is gone or a new one was elected: the ReadIndex in
            // flight went to the old one (or was dropped), so the next goes
            // out at once. The reads keep waiting, as etcd's do, until a
            // leader answers or their deadline passes ("request timed out").
            reads.forgetInFlight()
        }
        node.advance(rd)
        publishStatus()
        maybeSnapshot()
    }

    /// Whether `rd`'s new entries may be applied during their own fsync:
    /// this member is the only voter and leads, so persisting them commits
    /// them; nothing before them waits to be applied; all are normal
    /// entries of this term (a conf change changes who must agree). Only a
    /// small batch (few writers): under load the fsync of one batch beside
    /// the apply of the one before (`persister`) hides more, and the store
    /// commit would otherwise sit between two fsyncs.
    private func appliesDuringSync(_ rd: Ready) -> Bool {
        guard rd.mustSync, let first = rd.entries.first, rd.entries.count <= Self.maxEntriesAppliedDuringSync,
              rd.snapshot?.isEmpty ?? true, applier != nil,
              role == .leader, confState.voters == [memberID], confState.learners.isEmpty,
              first.index == appliedIndex + 1,
              rd.committedEntries.allSatisfy({ $0.index <= appliedIndex }) else { return false }
        let term = node.term
        return rd.entries.allSatisfy { $0.type == .normal && $0.term == term }
    }

    /// Waits for `persister` to write and fsync the Ready being handled,
    /// and meanwhile keeps replication going (Raft thesis 10.2.1): new
    /// proposals are stepped, and on a leader its peers' acknowledgements of
    /// this term, so followers get new entries, and the commit index the two
    /// of them reach without this member's disk, during its fsync. Whatever
    /// may leave before the fsync (`RawNode.takeEarlyMessages`) is sent at
    /// once. Nothing is applied here, and the node hands out an entry to
    /// apply only once `advance` reported it durable on this member.
    private func persistWhileReplicating() throws {
        // A sole voter's proposals wait in the mailbox for the next round:
        // stepping each as it comes would only cost a wake-up apiece.
        let alone = confState.voters == [memberID] && confState.learners.isEmpty
        while true {
            let leading = node.isLeader && carriedMessages.isEmpty
            // Parked proposals go first, in the loop's next round.
            let proposing = parked.isEmpty && !alone
            let (finished, proposals, messages) = condition.withLock {
                () -> (Bool, [(id: UInt64, data: [UInt8])], [Message]) in
                persistingAlone = alone
                while !persistFinished && !(proposing && !mailbox.proposals.isEmpty)
                    && !(leading && !mailbox.messages.isEmpty) {
                    condition.wait()
                }
                persistingAlone = false
                let finished = persistFinished
                persistFinished = false
                var proposals: [(id: UInt64, data: [UInt8])] = []
                if proposing { swap(&proposals, &mailbox.proposals) }
                var messages: [Message] = []
                if leading { swap(&messages, &mailbox.messages) }
                return (finished, proposals, messages)
            }
            stepWhilePersisting(messages)
            for p in proposals { proposeOrPark(p) }
            if !messages.isEmpty { publishReadGrant() }  // they may have moved the commit index
            let early = node.takeEarlyMessages()
            if !early.isEmpty { transport.send(early) }
            if finished { return try persister.wait() }
        }
    }

    /// Steps a leader's peer messages that cannot end its leadership
    /// (`RawNode.mayStepWhilePersisting`), in order; from the first other one
    /// on, the rest wait for the loop's next round.
    private func stepWhilePersisting(_ messages: [Message]) {
        for (i, m) in messages.enumerated() {
            guard node.mayStepWhilePersisting(m) else {
                carriedMessages.append(contentsOf: messages[i...])
                return
            }
            try? node.step(m)
        }
    }

    static let maxEntriesAppliedDuringSync = 8

    private func apply(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        var normal: [Entry] = []
        normal.reserveCapacity(entries.count)
        for e in entries where e.index > appliedIndex {
            if e.type == .confChange {
                if let cc = try? ConfChange(decoding: e.data) {
                    // Who answers with whom changes: withdrawn until the loop takes it again.
                    statusLock.withLock { readGrant = nil }
                    confState = node.applyConfChange(cc)
                    // Before the next Ready sends anything to a new member.
                    if confState.voters != [memberID] || !confState.learners.isEmpty {
                        readsLocally.store(false, ordering: .releasing)
                    }
                    localReadsOpenedTerm = 0
                    confChangeApplied(cc)
                }
            }
            normal.append(e)
        }
        // The answers go to their connections' loops together (`AnswerBatch`).
        if !normal.isEmpty { AnswerBatch.collect { applier?.apply(normal, term: node.term) } }
        appliedIndex = max(appliedIndex, entries.last!.index)
    }

    private func answerReads() {
        guard !pendingReadStates.isEmpty else { return }
        AnswerBatch.collect { serveReadStates(pendingReadStates) }
    }

    private func serveReadStates(_ states: [(index: UInt64, batch: UInt64)]) {
        var remaining: [(index: UInt64, batch: UInt64)] = []
        for rs in states {
            if rs.index <= appliedIndex {
                // Every read up to rs.batch arrived before this ReadIndex was sent.
                for batch in reads.served(upTo: rs.batch) { readWaits.trigger(id: batch, .success(rs.index)) }
            } else {
                remaining.append(rs)
            }
        }
        pendingReadStates = remaining
    }

    /// Takes `readGrant` again from the node's current state (see its doc).
    private func publishReadGrant() {
        let grant = node.readIndexGrant
        statusLock.withLock { readGrant = grant }
    }

    private func publishStatus() {
        let st = node.status()
        let grant = node.readIndexGrant
        let previousLeader = statusLock.withLock { () -> UInt64 in
            readGrant = grant
            let previous = publishedStatus.leader
            publishedStatus = NodeStatus(memberID: memberID, leader: st.lead, term: st.term,
                                         commitIndex: st.commit, appliedIndex: appliedIndex,
                                         learners: confState.learners,
                                         matchIndex: st.role == .leader ? st.progress.mapValues(\.match) : [:])
            return previous
        }
        if st.lead != 0 && st.lead != previousLeader { leaderChanged(st.lead) }
        let gate = LocalReadGate(memberID: memberID, confState: confState, leader: st.lead, term: st.term,
                                 commitIndex: st.commit, commitTerm: node.term(at: st.commit), appliedIndex: appliedIndex,
                                 openedThisTerm: localReadsOpenedTerm == st.term && st.term != 0)
        let open = gate.isOpen
        localReadsOpenedTerm = open ? st.term : 0
        readsLocally.store(open, ordering: .releasing)
    }

    private func maybeSnapshot() {
        // Never past Raft's commit index: entries applied during their own
        // fsync are committed only by the next Ready.
        let upTo = min(appliedIndex, node.commitIndex)
        guard let decision = snapshotPolicy.decide(appliedIndex: upTo, lastSnapshotIndex: lastSnapshotIndex) else { return }
        do {
            // The MVCC store persists itself (with its applied index), so the
            // Raft snapshot only records the log position and membership; a
            // follower that needs it gets a copy of the store with it
            // (`SnapshotSender`).
            let snap = try storage.createSnapshot(index: decision.snapshotIndex, confState: confState, data: [])
            try snapshots.save(snap)
            try wal.saveSnapshotMarker(WALSnapshotMarker(index: snap.metadata.index, term: snap.metadata.term))
            try beforeLogRelease()
            // No replication floor: a follower behind the compacted log gets
            // the snapshot with a copy of the store (`SnapshotSender`).
            let compactIndex = decision.compactIndex
            // Below the first index already (after a restart or an installed
            // snapshot, the log starts at the snapshot): nothing to drop.
            if compactIndex >= (try storage.firstIndex()) { try storage.compact(upTo: compactIndex) }
            try wal.releaseSegments(before: compactIndex)
            lastSnapshotIndex = decision.snapshotIndex
            logger.info("saved snapshot", metadata: ["snapshot-index": "\(decision.snapshotIndex)",
                                                    "compact-index": "\(compactIndex)"])
        } catch {
            logger.error("failed to save snapshot", metadata: ["error": "\(error)"])
        }
    }
}
