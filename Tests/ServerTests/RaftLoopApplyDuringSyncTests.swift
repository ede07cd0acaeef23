import Foundation
import Logging
import Raft
import Testing
import WAL
@testable import Server

/// A sole voter applies its new entries while their WAL fsync runs
/// (`CommittedEntryApplier.prepare`), but makes them visible and answers
/// (`PreparedApply.finish`) only once that fsync returned, and never applies
/// them a second time when Raft then hands them over as committed.
@Suite struct RaftLoopApplyDuringSyncTests {
    @Test func preparedDuringTheFsyncFinishedOnlyAfterIt() throws {
        let gate = SyncGate()
        let dir = NSTemporaryDirectory() + "apply-during-sync-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (loop, applier) = try startSoleVoter(dir: dir, gate: gate)
        // A held fsync would keep stop() waiting forever: open the gate first.
        defer { gate.open(); loop.stop() }

        gate.close()
        loop.propose(id: 1, data: Array("first".utf8))
        try waitUntil { applier.prepared.contains("first") }
        // The fsync is held: nothing of the entry may be visible yet.
        #expect(!applier.finished.contains("first"), "finished before its fsync returned")
        #expect(!applier.applied.contains("first"))
        gate.open()
        try waitUntil { applier.finished.contains("first") }

        // The next entry's Ready carries "first" as committed: it must not apply again.
        loop.propose(id: 2, data: Array("second".utf8))
        try waitUntil { applier.finished.contains("second") || applier.applied.contains("second") }
        loop.propose(id: 3, data: Array("third".utf8))
        try waitUntil { applier.finished.contains("third") || applier.applied.contains("third") }
        let all = applier.finished + applier.applied
        #expect(all.filter { $0 == "first" }.count == 1, "\(applier.finished) \(applier.applied)")
        #expect(all.filter { $0 == "second" }.count == 1, "\(applier.finished) \(applier.applied)")
        #expect(applier.aborted.isEmpty)
    }

    /// Proposals made while a sole voter's batch is being persisted (by the
    /// persist worker, the loop not woken for them) wait in the mailbox and
    /// are committed by the next round, each once and in order.
    @Test func proposalsDuringSoleVotersPersistCommitNextRound() throws {
        let gate = SyncGate()
        let dir = NSTemporaryDirectory() + "persist-alone-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (loop, applier) = try startSoleVoter(dir: dir, gate: gate)
        defer { gate.open(); loop.stop() }
        gate.close()
        loop.propose(id: 1, data: Array("a0".utf8))  // applied during its own fsync, which the gate holds
        try waitUntil { applier.prepared.contains("a0") && gate.waiting == 1 }
        let big = (1 ... RaftLoop.maxEntriesAppliedDuringSync + 4).map { "b\($0)" }
        for (i, b) in big.enumerated() { loop.propose(id: UInt64(10 + i), data: Array(b.utf8)) }
        gate.let(1)  // a0's fsync returns; the next batch is too big to apply during its own fsync
        try waitUntil { applier.finished.contains("a0") && gate.waiting == 1 }
        let late = (1 ... 5).map { "c\($0)" }
        for (i, c) in late.enumerated() { loop.propose(id: UInt64(100 + i), data: Array(c.utf8)) }
        gate.open()
        let want = ["a0"] + big + late
        try waitUntil { Set(applier.finished + applier.applied).isSuperset(of: want) }
        let all = (applier.finished + applier.applied).filter { want.contains($0) }
        #expect(all.count == want.count, "each once: \(applier.finished) \(applier.applied)")
        #expect(applier.applied.filter { big.contains($0) } == big, "\(applier.applied)")
        #expect((applier.finished + applier.applied).filter { late.contains($0) } == late)
    }
}

/// A sole voter's Raft loop whose WAL fsyncs pass `gate`, started and
/// settled: the new leader's empty entry (index 2, after the bootstrap conf
/// change) is durable and applied, so no fsync is in flight when the test
/// closes the gate and the next one is its first proposal's.
private func startSoleVoter(dir: String, gate: SyncGate) throws -> (RaftLoop, SpeculationRecorder) {
    var settings = RestoredNode.Settings()
    settings.wal = WALOptions(fileSystem: GatedSyncFileSystem(gate: gate))
    let logger = Logger(label: "apply-during-sync-test")
    let restored = try RestoredNode.open(layout: DataDirLayout(dataDir: dir), newMember: MemberMetadata(memberID: 1, clusterID: 1),
                                         initialPeers: [1], raftConfig: RaftConfig(id: 1, electionTicks: 10, heartbeatTicks: 1, randomSeed: 1),
                                         settings: settings, logger: logger)
    let loop = RaftLoop(node: restored.node, storage: restored.storage, wal: restored.wal, snapshots: restored.snapshots,
                        snapshotPolicy: SnapshotPolicy(), lastSnapshotIndex: 0, confState: restored.confState,
                        appliedIndex: 0, tickInterval: 0.01, transport: NoPeers(), memberID: 1, logger: logger) { _, _ in }
    let applier = SpeculationRecorder()
    loop.applier = applier
    loop.start()
    do {
        try waitUntil {
            let s = loop.status
            return s.isLeader && s.commitIndex >= 2 && s.appliedIndex == s.commitIndex
        }
    } catch {
        loop.stop()
        throw error
    }
    return (loop, applier)
}

private func waitUntil(_ condition: () -> Bool) throws {
    // A bound on a hang, not a timing assertion.
    let deadline = Date().addingTimeInterval(30)
    while !condition() {
        if Date() > deadline { throw CancellationError() }
        usleep(1000)
    }
}

/// Records what goes through `prepare` / `finish` / `abort` and `apply`
/// (normal entries with data only, as strings).
private final class SpeculationRecorder: CommittedEntryApplier, @unchecked Sendable {
    private let lock = NSLock()
    private var log: (prepared: [String], finished: [String], aborted: [String], applied: [String]) = ([], [], [], [])

    var prepared: [String] { lock.withLock { log.prepared } }
    var finished: [String] { lock.withLock { log.finished } }
    var aborted: [String] { lock.withLock { log.aborted } }
    var applied: [String] { lock.withLock { log.applied } }

    private static func strings(_ entries: [Entry]) -> [String] {
        entries.filter { $0.type == .normal && !$0.data.isEmpty }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    func apply(_ entries: [Entry], term: UInt64) {
        let s = Self.strings(entries)
        lock.withLock { log.applied += s }
    }

    func prepare(_ entries: [Entry], term: UInt64) -> PreparedApply? {
        let s = Self.strings(entries)
        lock.withLock { log.prepared += s }
        return PreparedApply(finish: { [self] in lock.withLock { log.finished += s } },
                             abort: { [self] in lock.withLock { log.aborted += s } })
    }
}

/// Holds every WAL fsync while closed (but the ones `let` lets through).
private final class SyncGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = true
    private var permits = 0
    private var held = 0

    func close() { condition.withLock { isOpen = false } }
    func open() { condition.withLock { isOpen = true; condition.broadcast() } }
    /// Lets `n` held or coming fsyncs through while closed.
    func `let`(_ n: Int) { condition.withLock { permits += n; condition.broadcast() } }
    /// How many fsyncs the gate holds now.
    var waiting: Int { condition.withLock { held } }
    func pass() {
        condition.withLock {
            held += 1
            while !isOpen && permits == 0 { condition.wait() }
            if !isOpen { permits -= 1 }
            held -= 1
        }
    }
}

private final class GatedSyncFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let gate: SyncGate
    init(gate: SyncGate) {
        self.gate = gate
        super.init(PosixFileSystem())
    }
    override func wrap(_ file: any WALFile, path: String) -> any WALFile { GatedFile(file, gate: gate) }
}

private final class GatedFile: ForwardingFile {
    private let gate: SyncGate
    init(_ base: any WALFile, gate: SyncGate) {
        self.gate = gate
        super.init(base)
    }
    override func sync() throws {
        gate.pass()
        try base.sync()
    }
}
