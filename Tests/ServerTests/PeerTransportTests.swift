import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import TestSupport
import Raft
import Testing
@testable import Server

@Suite struct PeerTransportTests {
    @Test func framesRoundTripAndWaitForWholeFrames() throws {
        let hello = PeerHello(clusterID: 7, fromID: 1, toID: 2, attributesJSON: Array("{}".utf8))
        let message = Message(type: .app, to: 2, from: 1, term: 3, index: 4, commit: 5).encoded()
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        PeerFrame.hello(hello).write(into: &buffer)
        PeerFrame.message(message).write(into: &buffer)
        PeerFrame.helloRejected("no").write(into: &buffer)
        PeerFrame.leaseRequest(requestID: 9, leaseID: -5, op: .timeToLive).write(into: &buffer)
        PeerFrame.leaseAnswer(requestID: 9, first: 30, second: 60).write(into: &buffer)

        var partial = buffer.getSlice(at: 0, length: 10)!
        #expect(try PeerFrameDecoder.next(&partial) == nil)
        #expect(try PeerFrameDecoder.next(&buffer) == .hello(hello))
        let decoded = try #require(try PeerFrameDecoder.next(&buffer))
        guard case .message(let bytes) = decoded else { Issue.record("not a message: \(decoded)"); return }
        #expect(try Message(decoding: bytes) == Message(type: .app, to: 2, from: 1, term: 3, index: 4, commit: 5))
        #expect(try PeerFrameDecoder.next(&buffer) == .helloRejected("no"))
        #expect(try PeerFrameDecoder.next(&buffer) == .leaseRequest(requestID: 9, leaseID: -5, op: .timeToLive))
        #expect(try PeerFrameDecoder.next(&buffer) == .leaseAnswer(requestID: 9, first: 30, second: 60))
        #expect(buffer.readableBytes == 0)

        var huge = ByteBufferAllocator().buffer(capacity: 8)
        huge.writeInteger(UInt32(PeerFrame.maxBodyBytes + 1))
        #expect(throws: PeerProtocolError.self) { try PeerFrameDecoder.next(&huge) }
    }

    /// A connection's first frame is capped lower (the listener's 1 MiB): a
    /// stranger cannot make the member buffer a 64 MiB frame before its hello.
    @Test func firstFrameIsCappedUntilAHelloArrived() throws {
        var big = ByteBufferAllocator().buffer(capacity: 4096)
        PeerFrame.message(Array(repeating: 7, count: 2048)).write(into: &big)
        var hello = ByteBufferAllocator().buffer(capacity: 64)
        PeerFrame.hello(PeerHello(clusterID: 7, fromID: 1, toID: 2, attributesJSON: [])).write(into: &hello)

        let stranger = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder(firstFrameMaxBytes: 1024)))
        #expect(throws: PeerProtocolError.self) { try stranger.writeInbound(big.getSlice(at: 0, length: 4)!) }

        let peer = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder(firstFrameMaxBytes: 1024)))
        try peer.writeInbound(hello)
        try peer.writeInbound(big)
        #expect(try peer.readInbound(as: PeerFrame.self) == .hello(PeerHello(clusterID: 7, fromID: 1, toID: 2, attributesJSON: [])))
        #expect(try peer.readInbound(as: PeerFrame.self) == .message(Array(repeating: 7, count: 2048)))
    }

    /// Two members' transports on loopback: messages arrive in order;
    /// another cluster's member, a misaddressed hello and a stranger are refused.
    @Test func messagesFlowBetweenTwoMembersAndStrangersAreRefused() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dir = NSTemporaryDirectory() + "peer-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let portA = freeLoopbackPort(), portB = freeLoopbackPort()
        let members = [ClusterMember(id: 1, name: "a", peerURLs: ["http://127.0.0.1:\(portA)"], clientURLs: []),
                       ClusterMember(id: 2, name: "b", peerURLs: ["http://127.0.0.1:\(portB)"], clientURLs: [])]
        let logger = Logger(label: "peer-test")
        func network(_ id: UInt64) throws -> PeerNetwork {
            try PeerNetwork(localID: id, clusterID: 99, membership: Membership(members: members, path: "\(dir)/\(id).json", logger: logger),
                            attributes: MemberAttributes(name: id == 1 ? "a" : "b", clientURLs: ["http://c\(id)"]),
                            snapDir: dir, group: group, logger: logger)
        }
        let a = try network(1), b = try network(2)
        let received = Received()
        b.onMessages = { received.append($0) }
        _ = try await a.start(host: "127.0.0.1", port: portA)
        _ = try await b.start(host: "127.0.0.1", port: portB)

        // Until the connection is up, sends are dropped (reported unreachable).
        var index: UInt64 = 0
        // Generous deadlines: on a loaded 2-core CI machine the test's sleeps
        // can wait long for a thread; the check is about order, not speed.
        var deadline = Date().addingTimeInterval(60)
        while received.count == 0, Date() < deadline {
            index += 1
            a.send([Message(type: .heartbeat, to: 2, from: 1, term: 1, commit: index)])
            try await Task.sleep(for: .milliseconds(20))
        }
        let more = (1...50).map { Message(type: .app, to: 2, from: 1, term: 1, index: index + $0) }
        a.send(more)
        deadline = Date().addingTimeInterval(60)
        while received.all.filter({ $0.type == .app }).count < 50, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let got = received.all.filter { $0.type == .app }
        #expect(got == more)

        #expect(b.admit(PeerHello(clusterID: 98, fromID: 1, toID: 2, attributesJSON: []))?.contains("cluster ID mismatch") == true)
        #expect(b.admit(PeerHello(clusterID: 99, fromID: 1, toID: 3, attributesJSON: []))?.contains("member ID mismatch") == true)
        #expect(b.admit(PeerHello(clusterID: 99, fromID: 5, toID: 2, attributesJSON: []))?.contains("unknown member") == true)
        // A stranger claiming b's own ID: b's Raft would take b's "replies" as a peer's.
        #expect(b.admit(PeerHello(clusterID: 99, fromID: 2, toID: 2, attributesJSON: []))?.contains("own ID") == true)
        // A removed member is told so (it then stops), also after a restart of b.
        b.membership.remove(1)
        #expect(b.admit(PeerHello(clusterID: 99, fromID: 1, toID: 2, attributesJSON: [])) == PeerNetwork.removedReason)
        #expect(Membership(members: members, path: "\(dir)/2.json", logger: logger).isRemoved(1))
        #expect(!Membership(members: members, path: "\(dir)/1.json", logger: logger).isRemoved(1))
        await a.stop()
        await b.stop()
        try await group.shutdownGracefully()
    }
}

/// A lease request forwarded to a leader whose connection then goes down
/// (the leader was killed) fails with "no leader" at the next Raft tick, so
/// the follower retries at the new leader at once instead of waiting out
/// the attempt (keep-alives through a follower were answered a second or
/// two later than etcd's after a leader kill).
@Suite(.serialized) struct LeaseForwardTests {
    @Test func forwardToALeaderWhoseConnectionDropsFailsAtOnce() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let dir = NSTemporaryDirectory() + "peer-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let portA = freeLoopbackPort(), portB = freeLoopbackPort()
        // The "leader": a plain socket that accepts the follower's connection and never answers.
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(bindLoopback(listenFD, port: portB) == 0 && listen(listenFD, 8) == 0)
        let accepted = Received()
        let acceptedFD = AcceptedSocket()
        Thread.detachNewThread {
            let fd = accept(listenFD, nil, nil)
            acceptedFD.set(fd)
            accepted.append([Message(type: .heartbeat)])
        }
        let members = [ClusterMember(id: 1, name: "a", peerURLs: ["http://127.0.0.1:\(portA)"], clientURLs: []),
                       ClusterMember(id: 2, name: "b", peerURLs: ["http://127.0.0.1:\(portB)"], clientURLs: [])]
        let logger = Logger(label: "peer-test")
        let a = try PeerNetwork(localID: 1, clusterID: 99, membership: Membership(members: members, path: "\(dir)/1.json", logger: logger),
                                attributes: MemberAttributes(name: "a", clientURLs: ["http://c1"]),
                                snapDir: dir, group: group, logger: logger)
        _ = try await a.start(host: "127.0.0.1", port: portA)
        var deadline = Date().addingTimeInterval(60)
        while (a.activeSince(2) == nil || accepted.count == 0), Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(a.activeSince(2) != nil)

        let forward = Task { try await a.forwardLease(.renew, 7, to: 2, timeoutSeconds: 120) }
        try await Task.sleep(for: .milliseconds(100))
        close(acceptedFD.fd)  // the leader is killed: its sockets close
        close(listenFD)
        deadline = Date().addingTimeInterval(150)
        let done = Received()
        let watcher = Task { () -> Result<(Int64, Int64), Error> in
            let outcome = await forward.result
            done.append([Message(type: .heartbeat)])
            return outcome
        }
        while done.count == 0, Date() < deadline {
            a.expireWaits(now: .now())  // the Raft loop's tick
            try await Task.sleep(for: .milliseconds(100))
        }
        let result = await watcher.value
        #expect(throws: ServerError.noLeader) { try result.get() }
        await a.stop()
        try await group.shutdownGracefully()
    }
}

/// A socket accepted on another thread.
final class AcceptedSocket: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int32 = -1
    func set(_ fd: Int32) { lock.withLock { value = fd } }
    var fd: Int32 { lock.withLock { value } }
}

/// Messages a test's network delivered, from any thread.
final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [Message] = []
    func append(_ m: [Message]) { lock.withLock { messages += m } }
    var count: Int { lock.withLock { messages.count } }
    var all: [Message] { lock.withLock { messages } }
}
