import Foundation
import Logging
import MVCC
import NIOCore
import NIOPosix
import Raft
import Support
import Testing
@testable import Server
import TestSupport

/// Snapshot transfer to a lagging follower: frames, running checksums,
/// the receiver's state machine, the received-file registry, installing a
/// store copy under a live watcher, and one transfer over loopback.
@Suite struct SnapshotTransferTests {
    private static func bytes(_ n: Int, seed: UInt8 = 1) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed } }

    private static func buffer(_ b: [UInt8]) -> ByteBuffer { ByteBufferAllocator().buffer(bytes: b) }

    /// Signs `data` in chunks of `chunk` bytes: the frames a leader sends.
    private static func signed(_ data: [UInt8], chunk: Int) -> [SnapshotFrame] {
        var signer = SnapshotChunkSigner()
        var frames: [SnapshotFrame] = []
        for start in stride(from: 0, to: data.count, by: chunk) {
            frames.append(signer.chunk(buffer(Array(data[start..<min(start + chunk, data.count)]))))
        }
        frames.append(signer.end())
        return frames
    }

    /// Feeds frames to a receiver state; returns the bytes it accepted and its last action.
    private static func receive(_ frames: [SnapshotFrame], total: UInt64) -> ([UInt8], SnapshotReceiveState.Action) {
        var state = SnapshotReceiveState()
        var accepted: [UInt8] = []
        var last = state.begin(totalBytes: total)
        for f in frames {
            guard last != .complete, case .accept = last else { break }
            switch f {
            case .chunk(let offset, let digest, let bytes):
                last = bytes.withUnsafeReadableBytes { state.chunk(offset: offset, digest: digest, bytes: $0) }
                if last == .accept { accepted += Array(bytes.readableBytesView) }
            case .end(let total, let digest):
                last = state.end(totalBytes: total, digest: digest)
            default:
                Issue.record("unexpected frame \(f)")
            }
        }
        return (accepted, last)
    }

    @Test func framesRoundTrip() throws {
        let message = Message(type: .snap, to: 2, from: 1, term: 3,
                              snapshot: Snapshot(metadata: SnapshotMetadata(index: 9, term: 3), data: [1, 2])).encoded()
        var signer = SnapshotChunkSigner()
        let frames: [SnapshotFrame] = [.begin(totalBytes: 5, message: message), signer.chunk(Self.buffer([1, 2, 3, 4, 5])),
                                       signer.end(), .ack(ok: false, reason: "checksum"), .ack(ok: true, reason: "")]
        var wire = ByteBufferAllocator().buffer(capacity: 256)
        for f in frames { PeerFrame.snapshot(f).write(into: &wire) }
        for f in frames { #expect(try PeerFrameDecoder.next(&wire) == .snapshot(f)) }
        #expect(wire.readableBytes == 0)
        var short = ByteBufferAllocator().buffer(capacity: 16)
        short.writeInteger(UInt32(3))
        short.writeBytes([7, 0, 0])  // a chunk frame without offset and digest
        #expect(throws: PeerProtocolError.self) { try PeerFrameDecoder.next(&short) }
    }

    @Test func chunksWithRunningDigestsRebuildTheFile() {
        let data = Self.bytes(10_000)
        let frames = Self.signed(data, chunk: 3000)
        let (accepted, last) = Self.receive(frames, total: UInt64(data.count))
        #expect(last == .complete)
        #expect(accepted == data)
        // The end frame's digest is the SHA-256 of the whole file.
        #expect(frames.last == .end(totalBytes: 10_000, digest: SHA256.digest(data)))
    }

    @Test func aCorruptChunkIsRefusedWhereItArrives() {
        let data = Self.bytes(9000)
        var frames = Self.signed(data, chunk: 3000)
        guard case .chunk(let offset, let digest, var bytes) = frames[1] else { Issue.record("not a chunk"); return }
        bytes.setInteger(bytes.getInteger(at: bytes.readerIndex + 10, as: UInt8.self)! ^ 0xFF, at: bytes.readerIndex + 10)
        frames[1] = .chunk(offset: offset, digest: digest, bytes: bytes)
        let (accepted, last) = Self.receive(frames, total: 9000)
        #expect(last == .fail("snapshot chunk at offset 3000: checksum mismatch"))
        #expect(accepted.count == 3000)
    }

    @Test func outOfOrderShortLongAndUnannouncedTransfersFail() {
        let data = Self.bytes(6000)
        let frames = Self.signed(data, chunk: 2000)
        // A chunk skipped.
        #expect(Self.receive([frames[0], frames[2], frames[3]], total: 6000).1 == .fail("snapshot chunk at offset 4000, expected 2000"))
        // Ends early.
        var early = SnapshotChunkSigner()
        let part = [early.chunk(Self.buffer(Array(data[0..<2000]))), early.end()]
        #expect(Self.receive(part, total: 6000).1 == .fail("snapshot ended after 2000 of 6000 bytes"))
        // More bytes than announced.
        #expect(Self.receive(frames, total: 5000).1 == .fail("snapshot chunk runs past the announced 5000 bytes"))
        // A wrong whole-file digest.
        let forged = Array(frames.dropLast()) + [.end(totalBytes: 6000, digest: [UInt8](repeating: 0, count: 32))]
        #expect(Self.receive(forged, total: 6000).1 == .fail("snapshot checksum mismatch"))
        // Frames before begin, a second begin, anything after a failure.
        var state = SnapshotReceiveState()
        #expect(state.end(totalBytes: 0, digest: []) == .fail("snapshot end frame out of order"))
        #expect(state.phase == .failed)
        #expect(state.begin(totalBytes: 10) == .fail("snapshot begin frame out of order"))
        var empty = SnapshotReceiveState()
        #expect(empty.begin(totalBytes: 0) == .fail("snapshot of 0 bytes refused"))
    }

    @Test func receivedFilesAreTakenOnceAndLeftoversRemoved() throws {
        let dir = NSTemporaryDirectory() + "received-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/\(ReceivedSnapshots.prefix)crashed", contents: Data([1]))
        _ = FileManager.default.createFile(atPath: dir + "/db", contents: Data([1]))
        let received = ReceivedSnapshots(dir: dir)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["db"])

        let paths = (0..<3).map { _ in received.newPath() }
        for (i, p) in paths.enumerated() {
            _ = FileManager.default.createFile(atPath: p, contents: Data([UInt8(i)]))
            received.add(index: UInt64(10 * (i + 1)), path: p)
        }
        #expect(received.take(index: 20) == paths[1])
        #expect(!FileManager.default.fileExists(atPath: paths[0]))  // older: never installed now
        #expect(FileManager.default.fileExists(atPath: paths[1]))   // the caller's
        #expect(received.take(index: 20) == nil)
        #expect(received.take(index: 30) == paths[2])
    }

    /// A snapshot Raft turned down (the follower's log caught up first) is
    /// not kept until a restart: once the member applied past it, it goes.
    @Test func receivedFilesAppliedPastAreDeleted() throws {
        let dir = NSTemporaryDirectory() + "received-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let received = ReceivedSnapshots(dir: dir)
        received.discard(through: 100)  // nothing waits: nothing to do
        let paths = (0..<3).map { _ in received.newPath() }
        for (i, p) in paths.enumerated() {
            _ = FileManager.default.createFile(atPath: p, contents: Data([UInt8(i)]))
            received.add(index: UInt64(10 * (i + 1)), path: p)
        }
        received.discard(through: 20)
        #expect(!FileManager.default.fileExists(atPath: paths[0]))
        #expect(!FileManager.default.fileExists(atPath: paths[1]))
        #expect(FileManager.default.fileExists(atPath: paths[2]))
        #expect(received.take(index: 20) == nil)
        #expect(received.take(index: 30) == paths[2])
    }

    @Test func extrasRoundTrip() throws {
        let extras = SnapshotExtras(members: [ClusterMember(id: 1, name: "a", peerURLs: ["http://p"], clientURLs: ["http://c"], learner: true)],
                                    alarms: [.init(memberID: 1, type: 1)])
        #expect(try SnapshotExtras(decoding: extras.encoded()) == extras)
        #expect(throws: (any Error).self) { try SnapshotExtras(decoding: []) }
    }

    /// A follower's store is replaced by a later copy of the same history
    /// while a watcher is synced on it: the watcher gets every revision it
    /// had not seen, once, from the new store.
    @Test func installingAStoreCopyKeepsWatchersExact() throws {
        let follower = try WatchFixture(), leader = try WatchFixture()
        for f in [follower, leader] { f.put("w/a", "1"); f.put("w/b", "2") }  // revisions 2, 3
        let s = follower.stream()
        follower.hub.create(spec("w/", end: "w0"), on: s)
        for i in 0..<3 { leader.put("w/c\(i)", "\(i)") }  // revisions 4, 5, 6: the follower missed them
        let copy = leader.dir + ".copy"
        defer { unlink(copy) }
        try leader.store.snapshot(to: copy)
        let info = try follower.store.replace(withDatabaseFile: copy)
        #expect(info.revision == 6)
        #expect(follower.store.currentRevision == 6)
        #expect(follower.store.consistentIndex == 5)
        follower.hub.storeReplaced()
        while follower.hub.syncUnsynced() > 0 {}
        // The follower goes on applying the log after the copy's index: revision 7.
        let next = follower.store.apply(batch: [(6, .put(PutRequest(key: Array("w/d".utf8), value: Array("after".utf8))))],
                                        leaseExists: { _ in true })
        follower.hub.notify(events: next.events, revision: follower.store.currentRevision)
        let revisions = follower.hub.take(s).compactMap(\.eventRevisions).flatMap(\.1)
        #expect(revisions == [4, 5, 6, 7])
        let range = try follower.store.range(RangeRequest(key: Array("w/".utf8), rangeEnd: Array("w0".utf8)))
        #expect(range.kvs.map { String(decoding: $0.key, as: UTF8.self) } == ["w/a", "w/b", "w/c0", "w/c1", "w/c2", "w/d"])
    }

    /// A file that is not a complete database is refused before the store
    /// closes anything: the old store stays in place and keeps working.
    @Test func replacingWithABadFileKeepsTheOldStore() throws {
        let f = try WatchFixture()
        f.put("kept", "1")
        let bad = f.dir + ".bad"
        defer { unlink(bad) }
        _ = FileManager.default.createFile(atPath: bad, contents: Data(repeating: 7, count: 8192))
        #expect(throws: (any Error).self) { try f.store.replace(withDatabaseFile: bad) }
        #expect(try f.store.range(RangeRequest(key: Array("kept".utf8))).kvs.count == 1)
        f.put("after", "2")
        #expect(f.store.currentRevision == 3)
    }

    /// A leader's network streams a MsgSnap with a real store copy to a
    /// follower's over loopback: the follower registers a verified file
    /// holding the leader's keys and passes the message (with the extras)
    /// to Raft; the leader reports the snapshot as sent.
    @Test func aSnapshotTravelsBetweenTwoMembers() async throws {
        let leaderStore = try WatchFixture()
        for i in 0..<300 { leaderStore.put("k\(i)", String(repeating: "v", count: 2000)) }  // several chunks
        let net = try await TwoMembers(leaderStore: leaderStore.store)
        let snap = Snapshot(metadata: SnapshotMetadata(index: 250, term: 2, confState: ConfState(voters: [1, 2])))
        let reports = try await net.sendSnapshot(snap)
        #expect(reports.count == 1)
        if case .snapshotSent(2)? = reports.first {} else { Issue.record("reported \(reports)") }
        let m = try #require(net.received.all.first { $0.type == .snap })
        #expect(m.snapshot?.metadata == snap.metadata)
        #expect(try SnapshotExtras(decoding: m.snapshot?.data ?? []).members == net.members)
        let file = try #require(net.b.receivedSnapshots.take(index: 250))
        let follower = try WatchFixture()
        try follower.store.replace(withDatabaseFile: file)
        #expect(follower.store.currentRevision == leaderStore.store.currentRevision)
        #expect(try follower.store.range(RangeRequest(key: Array("k299".utf8))).kvs.count == 1)
        await net.stop()
    }

    /// A part of a transfer during which one side waits and nothing moves
    /// on the connection, and that can outlast the follower's
    /// `--raft-read-timeout` (5 s).
    enum SlowStep: String, CaseIterable {
        /// The leader's store copy: 7 s for 1.3 GB here. A connection held
        /// idle through it was closed by the follower, and every retry made
        /// another copy that failed the same way.
        case leaderCopy
        /// The follower's check of the received file before it answers (the
        /// fsync of a gigabyte just written): it closed the connection on
        /// itself, and the leader counted the transfer failed.
        case followerCheck
    }

    /// The step is made slow and the follower's read timeout short: the
    /// transfer still succeeds.
    @Test(arguments: SlowStep.allCases)
    func aStepSlowerThanTheReadTimeoutDoesNotFailTheTransfer(_ step: SlowStep) async throws {
        let leaderStore = try WatchFixture()
        for i in 0..<10 { leaderStore.put("k\(i)") }
        var settings = PeerSettings()
        settings.timeouts.read = .milliseconds(500)
        let net = try await TwoMembers(leaderStore: leaderStore.store, followerSettings: settings,
                                       copyDelay: step == .leaderCopy ? .seconds(2) : .zero,
                                       handOverDelay: step == .followerCheck ? .seconds(2) : .zero)
        let reports = try await net.sendSnapshot(Snapshot(metadata: SnapshotMetadata(index: 10, term: 2, confState: ConfState(voters: [1, 2]))))
        if case .snapshotSent(2)? = reports.first {} else { Issue.record("reported \(reports)") }
        #expect(net.b.receivedSnapshots.take(index: 10) != nil)
        await net.stop()
    }

    /// A database older than the snapshot it claims to be (consistent index
    /// below the snapshot's) is refused: the leader reports a failure, Raft
    /// never sees the message, and no file is left behind.
    @Test func aDatabaseBehindItsSnapshotIsRefused() async throws {
        let leaderStore = try WatchFixture()
        for i in 0..<10 { leaderStore.put("k\(i)") }  // consistent index 10
        let net = try await TwoMembers(leaderStore: leaderStore.store)
        let reports = try await net.sendSnapshot(Snapshot(metadata: SnapshotMetadata(index: 400, term: 2)))
        if case .snapshotFailed(2)? = reports.first {} else { Issue.record("reported \(reports)") }
        #expect(net.received.all.allSatisfy { $0.type != .snap })
        #expect(net.b.receivedSnapshots.take(index: 400) == nil)
        let left = try FileManager.default.contentsOfDirectory(atPath: net.dir + "/2")
        #expect(!left.contains { $0.hasPrefix(ReceivedSnapshots.prefix) }, "\(left)")
        await net.stop()
    }
}

/// Two members' peer networks on loopback; member 1 sends snapshots of
/// `leaderStore`, member 2 collects what reaches Raft.
private struct TwoMembers {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let dir = NSTemporaryDirectory() + "snap-transfer-\(UUID().uuidString)"
    let members: [ClusterMember]
    let a: PeerNetwork, b: PeerNetwork
    let reports = Reports()
    let received = Received()

    /// `copyDelay`: how long making the leader's store copy takes on top;
    /// `handOverDelay`: how long the follower takes to hand a received snapshot to Raft.
    init(leaderStore: MVCCStore, followerSettings: PeerSettings = PeerSettings(), copyDelay: Duration = .zero,
         handOverDelay: Duration = .zero) async throws {
        for id in 1...2 { try FileManager.default.createDirectory(atPath: "\(dir)/\(id)", withIntermediateDirectories: true) }
        let portA = freeLoopbackPort(), portB = freeLoopbackPort()
        let members = [ClusterMember(id: 1, name: "a", peerURLs: ["http://127.0.0.1:\(portA)"], clientURLs: []),
                       ClusterMember(id: 2, name: "b", peerURLs: ["http://127.0.0.1:\(portB)"], clientURLs: [])]
        self.members = members
        let logger = Logger(label: "snap-test"), dir = self.dir, group = self.group
        func network(_ id: UInt64, _ settings: PeerSettings = PeerSettings()) throws -> PeerNetwork {
            try PeerNetwork(localID: id, clusterID: 99, membership: Membership(members: members, path: "\(dir)/\(id).json", logger: logger),
                            attributes: MemberAttributes(name: "m\(id)", clientURLs: []), snapDir: "\(dir)/\(id)",
                            group: group, settings: settings, logger: logger)
        }
        a = try network(1)
        b = try network(2, followerSettings)
        let extras = try SnapshotExtras(members: members, alarms: []).encoded()
        a.snapshotPayload = {
            Self.sleep(copyDelay)
            return SnapshotPayload(copy: try StoreCopy.make(store: leaderStore, snapDir: "\(dir)/1"), extras: extras)
        }
        a.onReport = { [reports] in reports.append($0) }
        b.onMessages = { [received] in
            if $0.contains(where: { $0.type == .snap }) { Self.sleep(handOverDelay) }
            received.append($0)
        }
        _ = try await a.start(host: "127.0.0.1", port: portA)
        _ = try await b.start(host: "127.0.0.1", port: portB)
    }

    private static func sleep(_ d: Duration) {
        if d > .zero { Thread.sleep(forTimeInterval: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
    }

    /// Sends a MsgSnap from 1 to 2 and returns member 1's reports once there is one.
    func sendSnapshot(_ snap: Snapshot) async throws -> [PeerReport] {
        a.send([Message(type: .snap, to: 2, from: 1, term: 2, snapshot: snap)])
        let deadline = Date().addingTimeInterval(60)
        while reports.all.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return reports.all
    }

    func stop() async {
        await a.stop()
        await b.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

private final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [PeerReport] = []
    func append(_ r: PeerReport) { lock.withLock { reports.append(r) } }
    var all: [PeerReport] { lock.withLock { reports } }
}
