import Atomics
import Foundation
import Logging
import Raft
import Support
import WAL

/// Drives the pure Raft core on one dedicated thread: ticks from a real
/// clock, proposals and ReadIndex requests from any thread, and each `Ready`
/// in the contract's order: persist (WAL, one fdatasync for the whole
/// batch) → send → apply → advance.
///
/// Batching is where throughput comes from: while one Ready is being synced
/// and applied, new proposals queue up in `mailbox` and go into the next
/// Ready together.
///
/// Its aspects live in `RaftLoop+*.swift`: requests from other threads
/// (`+Requests`), one Ready (`+Ready`, `+Persist`), apply and what other
/// threads read (`+Apply`), linearizable reads (`+ReadIndex`), snapshots
/// (`+Snapshot`). State they share is internal for them, not for the rest
/// of the module: the thread rules on each field still hold.
final class RaftLoop: @unchecked Sendable {
    struct Mailbox {
        var proposals: [(id: UInt64, data: [UInt8])] = []
        /// Proposals only the leader of `term` may make (`proposeAsLeader`).
        var leaderProposals: [(id: UInt64, data: [UInt8], term: UInt64)] = []
        var reads: [(batch: UInt64, deadlineNanos: UInt64)] = []  // linearizable reads (see ReadIndexBatcher)
        var messages: [Message] = []
        var reports: [PeerReport] = []
        var transfers: [UInt64] = []  // leadership transferees (MoveLeader)
        var confChanges: [(cc: ConfChange, dropped: (ServerError) -> Void)] = []
        /// Extra ticks to run at once (`--initial-election-tick-advance`).
        var advanceTicks = 0
        /// The last index `applyStage` reported applied since the loop last looked (0: none).
        var appliedUpTo: UInt64 = 0
        var stopping = false
        var isEmpty: Bool {
            proposals.isEmpty && leaderProposals.isEmpty && reads.isEmpty && messages.isEmpty && reports.isEmpty && transfers.isEmpty
                && confChanges.isEmpty && advanceTicks == 0 && appliedUpTo == 0 && !stopping
        }
    }

    // Loop-thread state: only touched on `thread`.
    var node: RawNode
    let storage: MemoryStorage
    let wal: WAL
    let snapshots: SnapshotStore
    let snapshotPolicy: SnapshotPolicy
    var lastSnapshotIndex: UInt64
    /// No log compaction before this: a snapshot reached a follower moments
    /// ago (`holdsLogForSnapshotCatchUp`).
    /// `MonotonicClock` nanoseconds.
    var logHoldUntilNanos: UInt64 = 0
    var confState: ConfState
    /// The last index applied: by the loop itself, or reported by `applyStage`.
    var appliedIndex: UInt64
    /// The last index handed over to be applied (on the loop or to
    /// `applyStage`): ≥ `appliedIndex`, equal once the stage caught up.
    var dispatchedIndex: UInt64
    /// ReadIndex answers not yet servable: (index, batch id).
    var pendingReadStates: [(index: UInt64, batch: UInt64)] = []
    var reads = ReadIndexBatcher()
    var readInFlightSeen = false
    /// The term in which `LocalReadGate` last opened (0: closed since, or a
    /// conf change was applied).
    var localReadsOpenedTerm: UInt64 = 0
    /// This node's role as of the last Ready handled (its soft state).
    var role: RaftRole

    /// Run before WAL segments are released: the store must have made durable
    /// everything up to the snapshot index (it may commit without fsync).
    var beforeLogRelease: () throws -> Void = {}
    /// Runs on the loop thread for a snapshot Raft received from the leader,
    /// before it is persisted: replaces the application state (store,
    /// members, ...) with the snapshot's. Throwing stops the process.
    var installSnapshot: (Snapshot) throws -> Void = { _ in }
    /// Runs on the loop thread after each Ready with the applied index:
    /// drops received snapshot files Raft will no longer install.
    var discardReceivedSnapshots: (UInt64) -> Void = { _ in }
    private let tickInterval: TimeInterval
    let transport: PeerTransport
    /// The apply pipeline (set before `start`); owned here and by
    /// `applyStage`, which runs it while the loop does not (`ApplyRoute`).
    var applier: CommittedEntryApplier?
    /// Applies committed entries beside the loop (`ApplyRoute.beside`);
    /// made by `start` when there is an `applier`.
    var applyStage: ApplyStage?
    /// Runs on the loop thread after Raft applied a committed conf change
    /// (set before `start`): the server updates its member table here.
    var confChangeApplied: (ConfChange) -> Void = { _ in }
    /// Runs on the loop thread when a leader different from the last one
    /// known becomes known, with its ID (etcd's leader_changes_seen_total;
    /// the lessor starts or stops its clocks), and with 0 when this member
    /// stops leading before another leader is known; set before `start`.
    var leaderChanged: (_ leader: UInt64) -> Void = { _ in }
    /// Runs on the loop thread after every tick (set before `start`): the
    /// server expires its waits' deadlines here (`WaitRegistry.expire`).
    var onTick: () -> Void = {}
    let logger: Logger
    let raftLog: RaftEventLog
    let memberID: UInt64

    /// Monotonic: the loop's ticks must keep their pace when the wall clock
    /// is stepped (an NSCondition waits on the wall clock, and a member whose
    /// clock went back an hour stopped ticking for an hour: as leader it sent
    /// no heartbeats, as follower it refused every vote, its leader lease
    /// never running out, so a cluster that lost its leader elected none).
    let condition = MonotonicCondition()
    var mailbox = Mailbox()  // guarded by `condition`
    var readBatchSeq: UInt64 = 0  // guarded by `condition`
    /// A ReadIndex is in flight: a new read need not wake the loop, the
    /// answer will (and the read joins the next request). Guarded by `condition`.
    var readInFlight = false
    /// `persister` finished its job since the loop last looked. Guarded by `condition`.
    var persistFinished = false
    /// The loop waits for `persister` and steps no proposals meanwhile (a
    /// sole voter has nobody to send them to; parked ones go first): a
    /// proposal need not wake it, the next Ready takes it either way.
    /// Guarded by `condition`.
    var proposalsWaitForPersist = false
    /// The loop waits for `persister` and steps no peer messages meanwhile
    /// (`persistWhileReplicating`: a follower's, or a leader's carrying
    /// messages): a message need not wake it, the fsync's end will.
    /// Guarded by `condition`.
    var messagesWaitForPersist = false
    /// Peer messages taken from the mailbox while persisting but not stepped
    /// then (`persistWhileReplicating`): stepped first by the next round.
    var carriedMessages: [Message] = []

    let statusLock = NSLock()
    var publishedStatus: NodeStatus  // guarded by `statusLock`
    /// On a leader: answers its followers' ReadIndex requests as they
    /// arrive (`deliver`), with no hop to the loop. Taken again by the loop
    /// before it sends anything or applies anything (`publishReadGrant`),
    /// as `ReadIndexGrant` requires. Guarded by `statusLock`.
    var readGrant: ReadIndexGrant?

    /// Called (on the loop thread) for a proposal Raft refused, e.g. no leader.
    private let proposalDropped: (UInt64, ServerError) -> Void
    /// Proposals made while no leader is known, proposed again once one is.
    var parked = ParkedProposals()
    /// Whether the request of proposal `id` still waits for it (the server
    /// asks its apply waits): a parked proposal nobody waits for is dropped.
    var isWaiting: (UInt64) -> Bool = { _ in true }
    /// ReadIndex batches: triggered once applied ≥ the read index.
    let readWaits = WaitRegistry<UInt64>()
    /// `LocalReadGate.isOpen` as of the loop's last Ready (or conf change):
    /// linearizable reads skip the ReadIndex round while it is set.
    let readsLocally = ManagedAtomic<Bool>(false)
    private var thread: Thread?
    /// Writes and fsyncs a Ready's entries while the loop applies (`handle`).
    let persister = PersistWorker()
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
        self.dispatchedIndex = appliedIndex
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
        if let applier {
            let stage = ApplyStage(applier: applier)
            stage.onApplied = { [self] index in
                condition.withLock {
                    mailbox.appliedUpTo = max(mailbox.appliedUpTo, index)
                    condition.signal()
                }
            }
            stage.start(name: "raft-apply")
            applyStage = stage
        }
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

    // MARK: the loop

    private func run() {
        let tickNanos = UInt64(tickInterval * 1e9)
        var nextTick = MonotonicClock.nanoseconds() + tickNanos
        campaignIfAlone()
        while true {
            // A pending Ready (say, entries committed by the last one) does
            // not wait: it goes out with whatever the mailbox holds now, so
            // new proposals' fsync overlaps their predecessors' apply.
            let readyPending = node.hasReady()
            let work: Mailbox = condition.withLock {
                while mailbox.isEmpty && !readyPending && MonotonicClock.nanoseconds() < nextTick {
                    condition.wait(untilNanoseconds: nextTick)
                }
                let taken = mailbox
                mailbox = Mailbox(stopping: mailbox.stopping)
                return taken
            }
            if work.stopping { break }
            if work.appliedUpTo > appliedIndex { stageApplied(upTo: work.appliedUpTo) }
            let now = MonotonicClock.nanoseconds()
            if now >= nextTick {
                node.tick()
                nextTick = now + tickNanos
                for batch in reads.tick(nowNanos: now) { readWaits.trigger(id: batch, .failure(ServerError.timeout)) }
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
                case .snapshotSent(let id):
                    node.reportSnapshot(id, failed: false)
                    logHoldUntilNanos = MonotonicClock.deadline(afterSeconds: Self.logHoldAfterSnapshotSeconds)
                case .snapshotFailed(let id): node.reportSnapshot(id, failed: true)
                }
            }
            if !parked.isEmpty && node.leader != 0 {
                for p in parked.takeAll() { proposeOrPark(p) }
            }
            for p in work.proposals { proposeOrPark(p) }
            for p in work.leaderProposals {
                if node.isLeader && node.term == p.term { proposeOrPark((p.id, p.data)) } else { proposalDropped(p.id, .proposalDropped) }
            }
            for t in work.transfers { node.transferLeader(to: t) }
            for c in work.confChanges {
                do { try node.proposeConfChange(c.cc) } catch { c.dropped(ServerError.from(raft: error, leaderKnown: node.leader != 0)) }
            }
            reads.enqueue(work.reads)
            if node.hasReady() { handle(node.ready()) }
            requestReadIndex()
            raftLog.log(node.takeEvents())
        }
        // What was handed over is applied before the stop ends (as when
        // the loop applied it all itself).
        applyStage?.stop()
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
    func proposeOrPark(_ p: (id: UInt64, data: [UInt8])) {
        do { try node.propose(p.data) } catch {
            if case RaftError.proposalDropped = error, node.leader == 0, parked.park(p) { return }
            proposalDropped(p.id, ServerError.from(raft: error, leaderKnown: node.leader != 0))
        }
    }

    /// A sole voter need not wait an election timeout (start-up, restart).
    private func campaignIfAlone() {
        while node.hasReady() { handle(node.ready()) }
        if confState.voters == [memberID] && node.status().lead == 0 { try? node.campaign() }
        while node.hasReady() { handle(node.ready()) }
        raftLog.log(node.takeEvents())
    }
}
