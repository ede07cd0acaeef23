import Config
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Raft
import Testing
import WAL
@testable import Server

/// Deterministic pieces behind the operator flags: the flag → option
/// mapping, `--force-new-cluster`'s log rewrite, the compaction hash
/// verdicts, the peer connection deadlines.
@Suite struct OperatorFlagUnitTests {
    static func options(_ args: [String]) throws -> ServerOptions {
        guard case .run(let config) = parseCommandLine(args, environment: [:]) else {
            throw MappingError("flags did not parse: \(args)")
        }
        return try ServerOptions(config: config)
    }

    /// Each supported flag the server reads reaches `ServerOptions`.
    @Test func serverOptionsCarryEveryFlag() throws {
        let o = try Self.options([
            "--name", "n1", "--data-dir", "/d", "--wal-dir", "/w", "--force-new-cluster", "--unsafe-no-fsync",
            "--initial-election-tick-advance=false", "--socket-reuse-port", "--raft-read-timeout", "7s",
            "--raft-write-timeout", "9s", "--backend-batch-interval", "50ms", "--backend-batch-limit", "3",
            "--experimental-max-learners", "4", "--experimental-bootstrap-defrag-threshold-megabytes", "2",
            "--experimental-stop-grpc-service-on-defrag", "--experimental-enable-lease-checkpoint",
            "--experimental-enable-lease-checkpoint-persist", "--experimental-compact-hash-check-enabled",
            "--experimental-compact-hash-check-time", "2s", "--experimental-compaction-batch-limit", "7",
            "--experimental-compaction-sleep-interval", "3ms", "--experimental-warning-apply-duration", "5ms",
            "--experimental-warning-unary-request-duration", "6ms", "--pre-vote=false", "--max-wals", "0",
            "--max-snapshots", "2", "--heartbeat-interval", "200", "--election-timeout", "4000", "--max-txn-ops", "9",
            "--max-request-bytes", "4096", "--snapshot-count", "77", "--experimental-snapshot-catchup-entries", "88",
            "--strict-reconfig-check=false", "--enable-pprof", "--enable-grpc-gateway=false", "--metrics", "extensive",
        ])
        #expect(o.name == "n1" && o.dataDir == "/d" && o.walDir == "/w")
        #expect(o.forceNewCluster && o.unsafeNoFsync && !o.initialElectionTickAdvance && o.socketReusePort)
        #expect(o.raftReadTimeout == .seconds(7) && o.raftWriteTimeout == .seconds(9))
        #expect(o.backendBatchInterval == .milliseconds(50) && o.backendBatchLimit == 3)
        #expect(o.maxLearners == 4 && o.bootstrapDefragThresholdBytes == 2 << 20 && o.stopGRPCServiceOnDefrag)
        #expect(o.leaseCheckpointEnabled && o.leaseCheckpointPersist)
        #expect(o.compactHashCheckEnabled && o.compactHashCheckIntervalMs == 2000)
        #expect(o.compactionBatchLimit == 7 && o.compactionSleep == .milliseconds(3))
        #expect(o.warningApplyDuration == .milliseconds(5) && o.warningUnaryRequestDuration == .milliseconds(6))
        #expect(!o.preVote && o.maxWALs == 0 && o.maxSnapshots == 2)
        #expect(o.heartbeatIntervalMs == 200 && o.electionTimeoutMs == 4000 && o.maxTxnOps == 9 && o.maxRequestBytes == 4096)
        #expect(o.snapshotCount == 77 && o.snapshotCatchUpEntries == 88 && !o.strictReconfigCheck)
        #expect(o.enablePprof && !o.enableGRPCGateway && o.metricsExtensive)
        // etcd: raft timeouts are raised to 5 s; compaction batch limit 0 means 1000.
        let d = try Self.options(["--raft-read-timeout", "1s", "--experimental-compaction-batch-limit", "0"])
        #expect(d.raftReadTimeout == .seconds(5) && d.compactionBatchLimit == 1000)
        #expect(!d.leaseCheckpointPersist && d.backendBatchInterval == .zero)
    }

    /// `--max-wals` and `--unsafe-no-fsync` shape the WAL's options: 0 WALs
    /// means keep all, and no fsync reaches the disk.
    @Test func walOptionsFollowMaxWALsAndUnsafeNoFsync() throws {
        let logger = Logger(label: "test")
        let unsafe = WALOptions.server(maxSegments: 3, unsafeNoFsync: true, logger: logger)
        #expect(unsafe.maxSegments == 3 && unsafe.unsafeNoFsync && unsafe.fileSystem is UnsafeNoSyncFileSystem)
        let safe = WALOptions.server(maxSegments: 5, unsafeNoFsync: false, logger: logger)
        #expect(!safe.unsafeNoFsync && safe.fileSystem is PosixFileSystem)
        // No sync reaches the file system underneath; writes do.
        let counting = SyncCountingFileSystem()
        let noSync = UnsafeNoSyncFileSystem(counting)
        try noSync.createDirectory("/d")
        let f = try noSync.openFile("/d/x", create: true)
        try f.write([1, 2, 3], at: 0)
        try f.sync()
        try noSync.syncDirectory("/d")
        #expect(counting.syncs == 0 && counting.writes == 1)
    }

    /// `--force-new-cluster`: uncommitted entries go, every other member is
    /// removed by committed conf changes after the commit index.
    @Test func forcedRewriteRemovesEveryOtherMember() throws {
        let add = { (id: UInt64) in ConfChange(type: .addNode, nodeID: id).encoded() }
        let entries = [
            Entry(term: 1, index: 1, type: .confChange, data: add(1)),
            Entry(term: 1, index: 2, type: .confChange, data: add(2)),
            Entry(term: 1, index: 3, type: .confChange, data: add(3)),
            Entry(term: 2, index: 4, data: [9]),
            Entry(term: 2, index: 5, data: [8]),  // not committed
        ]
        let r = ForceNewCluster.rewrite(hardState: HardState(term: 2, vote: 1, commit: 4), entries: entries,
                                        confState: ConfState(), firstIndex: 1, localID: 2)
        #expect(r.discardedUncommitted == 1)
        #expect(r.forced.map { try? ConfChange(decoding: $0.data) } == [ConfChange(type: .removeNode, nodeID: 1),
                                                                          ConfChange(type: .removeNode, nodeID: 3)])
        #expect(r.forced.map(\.index) == [5, 6] && r.forced.allSatisfy { $0.term == 2 && $0.type == .confChange })
        #expect(r.hardState == HardState(term: 2, vote: 1, commit: 6))
        #expect(r.entries.map(\.index) == [1, 2, 3, 4, 5, 6])
        // A member not in the configuration (restored elsewhere) adds itself.
        let stranger = ForceNewCluster.rewrite(hardState: HardState(term: 2, vote: 0, commit: 3), entries: Array(entries.prefix(3)),
                                               confState: ConfState(), firstIndex: 1, localID: 7)
        #expect(stranger.forced.compactMap { try? ConfChange(decoding: $0.data) }.last == ConfChange(type: .addNode, nodeID: 7))
    }

    /// etcd's `checkPeerHashes`: the minority of a mismatch is alarmed; no
    /// majority alarms member 0; unreachable peers make the round incomplete.
    @Test func compactHashCheckJudgesAsEtcd() {
        let leader = CorruptionCheck.HashPoint(hash: 1, revision: 10, compactRevision: 9)
        func answer(_ hash: UInt32, compact: Int64 = 9) -> CorruptionCheck.PeerResult {
            .answer(PeerHashAnswer(outcome: .ok, revision: 10, compactRevision: compact, hash: hash))
        }
        #expect(CompactHashCheck.judge(leaderID: 1, leader: leader, peers: [(2, answer(1)), (3, answer(1))])
                == .consistent(peersChecked: 2))
        #expect(CompactHashCheck.judge(leaderID: 1, leader: leader, peers: [(2, answer(1)), (3, answer(5))]) == .corrupt([3]))
        #expect(CompactHashCheck.judge(leaderID: 1, leader: leader, peers: [(2, answer(7)), (3, answer(5))]) == .corrupt([0]))
        #expect(CompactHashCheck.judge(leaderID: 1, leader: leader, peers: [(2, answer(1)), (3, .unreachable)])
                == .incomplete(peersChecked: 1))
        #expect(CompactHashCheck.judge(leaderID: 1, leader: leader, peers: [(2, answer(1)), (3, answer(5, compact: 4))])
                == .incomplete(peersChecked: 1))
        // A mismatch with a peer not comparable yet and no quorum: next round.
        #expect(CompactHashCheck.judge(leaderID: 1, leader: leader, peers: [(2, answer(5)), (3, answer(5, compact: 4))])
                == .incomplete(peersChecked: 1))
    }

    /// `--raft-write-timeout`: a peer connection whose writes stay stuck
    /// (the channel unwritable) that long is closed; writable again in time, it stays.
    @Test func peerWriteTimeoutClosesAStuckConnection() throws {
        for recovers in [false, true] {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(
                PeerTimeoutHandler(readTimeout: nil, writeTimeout: .seconds(5), logger: Logger(label: "test")))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            channel.isWritable = false
            channel.pipeline.fireChannelWritabilityChanged()
            channel.embeddedEventLoop.advanceTime(by: .seconds(3))
            if recovers {
                channel.isWritable = true
                channel.pipeline.fireChannelWritabilityChanged()
            }
            channel.embeddedEventLoop.advanceTime(by: .seconds(3))
            #expect(channel.isActive == recovers, "recovers \(recovers)")
            _ = try? channel.finish()
        }
    }

    /// `--raft-read-timeout`: silent that long, the connection is closed;
    /// anything read restarts the clock.
    @Test func peerReadTimeoutClosesASilentConnection() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            PeerTimeoutHandler(readTimeout: .seconds(5), writeTimeout: nil, logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        try channel.writeInbound(ByteBuffer(string: "x"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }

    @Test func humanBytesAsGoHumanize() {
        #expect(HumanBytes.format(5) == "5 B")
        #expect(HumanBytes.format(2_147_483_648) == "2.1 GB")
        #expect(HumanBytes.format(16_384) == "16 kB")
        #expect(HumanBytes.format(1_000_000) == "1.0 MB")
    }
}

/// Counts fsyncs and writes, storing nothing.
private final class SyncCountingFileSystem: WALFileSystem, @unchecked Sendable {
    var syncs = 0
    var writes = 0
    func listDirectory(_ path: String) throws -> [String] { [] }
    func fileExists(_ path: String) -> Bool { false }
    func createDirectory(_ path: String) throws {}
    func openFile(_ path: String, create: Bool) throws -> any WALFile { File(fs: self) }
    func readFile(_ path: String) throws -> [UInt8] { [] }
    func read(_ path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int { 0 }
    func fileSize(_ path: String) throws -> UInt64 { 0 }
    func rename(_ from: String, to: String) throws {}
    func removeFile(_ path: String) throws {}
    func syncDirectory(_ path: String) throws { syncs += 1 }

    final class File: WALFile {
        let fs: SyncCountingFileSystem
        init(fs: SyncCountingFileSystem) { self.fs = fs }
        func write(_ bytes: [UInt8], at offset: UInt64) throws { fs.writes += 1 }
        func read(at offset: UInt64, count: Int) throws -> [UInt8] { [] }
        func size() throws -> UInt64 { 0 }
        func sync() throws { fs.syncs += 1 }
        func truncate(to size: UInt64) throws {}
        func preallocate(_ size: UInt64) throws {}
        func close() throws {}
    }
}
