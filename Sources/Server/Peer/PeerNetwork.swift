import Foundation
import Logging
import NIOCore
import Raft

/// What the peer layer reports back to Raft (on the Raft loop).
enum PeerReport: Sendable {
    case unreachable(UInt64)
    /// A snapshot transfer ended: the follower took the database in (sent) or not.
    case snapshotSent(UInt64)
    case snapshotFailed(UInt64)
}

/// The production `PeerTransport`: one `PeerClient` per other member and a
/// `PeerListener` for inbound messages.
///
/// Snapshots: a `snap` message does not go on the message connection; the
/// `SnapshotSender` streams it with a copy of the store on a connection of
/// its own, and the listener's `SnapshotReceiver` registers the received
/// file in `receivedSnapshots` before the message reaches Raft.
final class PeerNetwork: PeerTransport, @unchecked Sendable {
    private let clientsLock = NSLock()
    private var clientTable: [UInt64: PeerClient]  // guarded by `clientsLock`; grows with MemberAdd
    var clients: [UInt64: PeerClient] { clientsLock.withLock { clientTable } }
    let group: EventLoopGroup
    private let dialer: PeerDialer
    private let attributesJSON: [UInt8]
    private let forward = Forwarder()
    private let listener: PeerListener
    private let logger: Logger
    private let clusterIDLock = NSLock()
    private var knownClusterID: UInt64  // guarded by `clusterIDLock`; 0 until a joining member hears a peer
    /// The cluster's ID; a member that joined with 0 adopts it from the first known peer's hello.
    var clusterID: UInt64 { clusterIDLock.withLock { knownClusterID } }
    private let localID: UInt64
    private let settings: PeerSettings
    let membership: Membership
    /// Where inbound messages and reports go; set once before `start`.
    var onMessages: @Sendable ([Message]) -> Void = { _ in }
    var onReport: @Sendable (PeerReport) -> Void = { _ in }
    /// A peer answered our hello with `removedReason`: this member must stop.
    var onRemoved: @Sendable () -> Void = {}
    /// On the leader: runs a follower's lease operation; see `LeaseOp` for
    /// the answer (`LeaseOp.notLeader` first when not the leader).
    var onLeaseRequest: @Sendable (Int64, LeaseOp) -> (Int64, Int64) = { _, _ in (LeaseOp.notLeader, 0) }
    private let renewWaits = WaitRegistry<LeaseAnswer>()
    private let leaseForwardsLock = NSLock()
    /// Lease requests waiting for an answer: request ID → the leader asked
    /// (guarded by `leaseForwardsLock`).
    private var leaseForwards: [UInt64: UInt64] = [:]
    /// On the leader: runs a follower's forwarded MemberPromote; nil on success.
    var onPromoteRequest: @Sendable (UInt64) async -> ServerError? = { _ in ServerError.notLeader }
    /// Forwarded MemberPromotes waiting for the leader's answer (nil: success).
    let promoteWaits = WaitRegistry<ServerError?>()
    let renewIDs = ManagedAtomicCounter()
    /// Files received from the leader, waiting for Raft to install them.
    let receivedSnapshots: ReceivedSnapshots
    private let snapshotSender: SnapshotSender
    /// A consistent copy of the store and the extras for a snapshot transfer;
    /// set once before `start`. Runs on a transfer's own thread.
    var snapshotPayload: () throws -> SnapshotPayload = { throw PeerProtocolError("snapshots not set up") }
    /// The cluster version for `GET /version` on the peer port; set once before `start`.
    var clusterVersion: @Sendable () -> String? = { nil }
    /// Round-trip pings and corruption-check hashes (frames 14–17; PeerNetwork+Probes).
    let probes = PeerProbes()
    private let droppedLock = NSLock()
    private var dropped: Set<UInt64> = []  // removed members; guarded by `droppedLock`
    private var admitted: Set<UInt64> = []  // guarded by `droppedLock`
    /// Members whose hello this member accepted since it started: they run,
    /// so the leader knows their version (etcd asks each member's /version).
    var heardFrom: Set<UInt64> { droppedLock.withLock { admitted } }

    init(localID: UInt64, clusterID: UInt64, membership: Membership, attributes: MemberAttributes,
         snapDir: String, dialer: PeerDialer = PeerDialer(tls: nil), listenerTLS: TLSServerSide? = nil,
         group: EventLoopGroup, settings: PeerSettings = PeerSettings(), logger: Logger) throws {
        self.settings = settings
        self.localID = localID
        self.knownClusterID = clusterID
        self.membership = membership
        self.logger = logger
        let attributesJSON = Array(try JSONEncoder().encode(attributes))
        var clients: [UInt64: PeerClient] = [:]
        self.group = group
        self.dialer = dialer
        self.attributesJSON = attributesJSON
        let forward = self.forward
        for member in membership.all where member.id != localID {
            guard let url = member.peerURLs.first else { continue }
            let hello = PeerHello(clusterID: clusterID, fromID: localID, toID: member.id, attributesJSON: attributesJSON)
            clients[member.id] = try PeerClient(peerID: member.id, url: url, hello: hello, dialer: dialer, eventLoop: group.next(),
                                                writeTimeout: settings.timeouts.write, logger: logger,
                                                onRejected: { forward.rejected($0) }) { id in
                forward.report(.unreachable(id))
            }
        }
        self.clientTable = clients
        let received = ReceivedSnapshots(dir: snapDir)
        receivedSnapshots = received
        snapshotSender = SnapshotSender(group: group, dialer: dialer, logger: logger)
        let sink = SnapshotSink(newPath: { received.newPath() }, received: { forward.snapshotReceived($0, file: $1) },
                                refuses: Self.refusesSnapshot)
        listener = PeerListener(group: group, tls: listenerTLS, logger: logger, admit: { forward.admit($0) },
                                deliver: { forward.messages($0) }, control: { forward.control($0, $1) },
                                members: { forward.members() }, http: { forward.http($0, $1) }, snapshots: sink,
                                settings: settings)
        forward.network = self
    }

    /// Binds the peer listener, then starts connecting to every peer.
    func start(host: String, port: Int) async throws -> Int {
        let bound = try await listener.start(host: host, port: port)
        for client in clients.values { client.start() }
        return bound
    }

    func stop() async {
        for client in clients.values { client.stop() }
        await listener.stop()
    }

    func send(_ messages: [Message]) {
        var byPeer: [UInt64: [[UInt8]]] = [:]
        for m in messages {
            if m.type == .snap {
                sendSnapshot(m)
                continue
            }
            byPeer[m.to, default: []].append(m.encoded())
        }
        let dropped = droppedLock.withLock { self.dropped }
        for (to, batch) in byPeer where !dropped.contains(to) {
            if let client = clients[to] { client.send(batch) } else { onReport(.unreachable(to)) }
        }
    }

    /// Streams a MsgSnap with the store to its follower (`SnapshotSender`).
    private func sendSnapshot(_ m: Message) {
        let dropped = droppedLock.withLock { self.dropped.contains(m.to) }
        guard !dropped, let url = membership.member(m.to)?.peerURLs.first else {
            onReport(.snapshotFailed(m.to))
            return
        }
        let hello = PeerHello(clusterID: clusterID, fromID: localID, toID: m.to, attributesJSON: attributesJSON)
        let forward = self.forward, to = m.to
        snapshotSender.send(m, url: url, hello: hello, payload: { [weak self] in
            guard let self else { throw PeerProtocolError("member is stopping") }
            return try self.snapshotPayload()
        }, done: { ok in forward.report(ok ? .snapshotSent(to) : .snapshotFailed(to)) })
    }

    /// Why a received MsgSnap cannot be installed: its data is not
    /// `SnapshotExtras`, or its configuration has no voter.
    static func refusesSnapshot(_ m: Message) -> String? {
        guard let snap = m.snapshot, !snap.metadata.confState.voters.isEmpty else {
            return "snapshot message without voters"
        }
        do { _ = try SnapshotExtras(decoding: snap.data) } catch { return "snapshot message data does not decode: \(error)" }
        return nil
    }

    /// A verified database file from the leader: registered, then its
    /// MsgSnap goes to Raft like any message.
    fileprivate func snapshotReceived(_ m: Message, file: String) {
        receivedSnapshots.add(index: m.snapshot?.metadata.index ?? 0, path: file)
        onMessages([m])
    }

    /// An added member (applied MemberAdd): connects to it from now on.
    func addPeer(_ id: UInt64, url: String) {
        guard clients[id] == nil else { return }
        let hello = PeerHello(clusterID: clusterID, fromID: localID, toID: id, attributesJSON: attributesJSON)
        let forward = self.forward
        do {
            let client = try PeerClient(peerID: id, url: url, hello: hello, dialer: dialer, eventLoop: group.next(),
                                        writeTimeout: settings.timeouts.write, logger: logger,
                                                onRejected: { forward.rejected($0) }) { id in
                forward.report(.unreachable(id))
            }
            clientsLock.withLock { clientTable[id] = client }
            client.start()
        } catch {
            logger.error("cannot connect to added member", metadata: ["peer-url": "\(url)", "error": "\(error)"])
        }
    }

    /// An updated member (applied MemberUpdate): reconnects to its new URL.
    func replacePeer(_ id: UInt64, url: String) {
        let old = clientsLock.withLock { clientTable.removeValue(forKey: id) }
        old?.stop()
        addPeer(id, url: url)
    }

    /// A removed member: its connection is closed and nothing more is sent
    /// to it (its hellos are refused, as it is no longer in `membership`).
    func dropPeer(_ id: UInt64) {
        droppedLock.withLock { _ = dropped.insert(id) }
        clients[id]?.stop()
    }

    /// Fails forwarded requests whose deadline passed (the Raft loop's
    /// tick), and lease requests whose leader's connection went down since
    /// (a killed leader never answers: the caller retries at once, at the
    /// new leader once one is elected, instead of waiting out its attempt).
    func expireWaits(now: NIODeadline) {
        renewWaits.expire(now: now, ServerError.timeout)
        promoteWaits.expire(now: now, ServerError.timeout)
        let lost = leaseForwardsLock.withLock { () -> [UInt64] in
            guard !leaseForwards.isEmpty else { return [] }
            let clients = self.clients
            return leaseForwards.filter { clients[$0.value]?.activeSince == nil }.map(\.key)
        }
        for requestID in lost { renewWaits.trigger(id: requestID, .failure(ServerError.noLeader)) }
    }

    /// Forwards a lease operation to the leader (see `LeaseOp` for the
    /// answer). Throws `noLeader` if `leader` says it is not the leader or
    /// this member's connection to it is down (at once, or when it goes
    /// down while waiting), `timeout` if no answer comes within `timeoutSeconds`.
    func forwardLease(_ op: LeaseOp, _ leaseID: Int64, to leader: UInt64, timeoutSeconds: Double) async throws -> (Int64, Int64) {
        guard let client = clients[leader] else { throw ServerError.noLeader }
        let requestID = renewIDs.next()
        leaseForwardsLock.withLock { leaseForwards[requestID] = leader }
        defer { leaseForwardsLock.withLock { _ = leaseForwards.removeValue(forKey: requestID) } }
        guard client.activeSince != nil else { throw ServerError.noLeader }
        let answer = try await renewWaits.wait(id: requestID, deadline: .after(seconds: timeoutSeconds)) {
            client.send(frames: [.leaseRequest(requestID: requestID, leaseID: leaseID, op: op)])
        }
        if answer.first == LeaseOp.notLeader { throw ServerError.noLeader }
        return (answer.first, answer.second)
    }

    fileprivate func control(from remoteID: UInt64, _ frame: PeerFrame) {
        switch frame {
        case .leaseRequest(let requestID, let leaseID, let op):
            let (first, second) = onLeaseRequest(leaseID, op)
            clients[remoteID]?.send(frames: [.leaseAnswer(requestID: requestID, first: first, second: second)])
        case .leaseAnswer(let requestID, let first, let second):
            renewWaits.trigger(id: requestID, .success(LeaseAnswer(first: first, second: second)))
        case .cluster(let frame):
            clusterControl(from: remoteID, frame)
        case .ping, .pong, .hashRequest, .hashAnswer:
            handleProbe(from: remoteID, frame)
        default:
            break
        }
    }

    /// Sends a control frame to a connected peer; false if unknown or removed.
    @discardableResult
    func sendFrame(_ frame: PeerFrame, to id: UInt64) -> Bool {
        guard !droppedLock.withLock({ dropped.contains(id) }), let client = clients[id] else { return false }
        client.send(frames: [frame])
        return true
    }

    /// The other members this network talks to (removed ones excluded).
    var peerIDs: [UInt64] {
        let dropped = droppedLock.withLock { self.dropped }
        return clients.keys.filter { !dropped.contains($0) }.sorted()
    }

    /// The refusal a removed member gets (etcd's `errMemberRemoved`); on
    /// hearing it, the member stops (`onRemoved`).
    static let removedReason = "the member has been permanently removed from the cluster"

    /// nil to accept; otherwise the reason, logged on both sides.
    func admit(_ hello: PeerHello) -> String? {
        let local = clusterID
        let known = membership.member(hello.fromID) != nil
        if local == 0 && known && hello.clusterID != 0 {
            clusterIDLock.withLock { knownClusterID = hello.clusterID }
            logger.info("joined cluster", metadata: ["cluster-id": "\(String(hello.clusterID, radix: 16))"])
        } else if hello.clusterID == 0 && known {
            // A member added by MemberAdd that has not learned the cluster ID yet.
        } else if hello.clusterID != local {
            return "cluster ID mismatch: local \(String(clusterID, radix: 16)), remote \(String(hello.clusterID, radix: 16)) (a member of another cluster)"
        }
        if hello.toID != localID {
            return "member ID mismatch: this member is \(String(localID, radix: 16)), the sender expected \(String(hello.toID, radix: 16))"
        }
        // Never this member itself: Raft would take its own messages as a
        // peer's (a leader's progress for itself moved by "its" replies).
        if hello.fromID == localID {
            return "member ID mismatch: the sender claims this member's own ID \(String(localID, radix: 16))"
        }
        if membership.isRemoved(hello.fromID) { return Self.removedReason }
        guard membership.member(hello.fromID) != nil else {
            return "unknown member \(String(hello.fromID, radix: 16)) (not in this cluster or removed)"
        }
        if let attributes = try? JSONDecoder().decode(MemberAttributes.self, from: Data(hello.attributesJSON)) {
            membership.update(hello.fromID, attributes: attributes)
        }
        droppedLock.withLock { _ = admitted.insert(hello.fromID) }
        return nil
    }
}

/// Breaks the init-time cycle between the network and its clients/listener.
private final class Forwarder: @unchecked Sendable {
    weak var network: PeerNetwork?
    func report(_ r: PeerReport) { network?.onReport(r) }
    func rejected(_ reason: String) {
        if reason == PeerNetwork.removedReason { network?.onRemoved() }
    }
    func messages(_ m: [Message]) { network?.onMessages(m) }
    func control(_ from: UInt64, _ frame: PeerFrame) { network?.control(from: from, frame) }
    func http(_ method: String, _ path: String) -> PeerHTTPAnswer {
        guard let network else { return .notFound }
        return PeerHTTPAnswer.answer(method: method, path: path, clusterVersion: network.clusterVersion(),
                                     clusterID: network.clusterID, members: network.membership.all)
    }
    func members() -> ClusterPeerFrame { network?.membersAnswer() ?? .membersAnswer(clusterID: 0, membersJSON: Array("[]".utf8)) }
    func snapshotReceived(_ m: Message, file: String) {
        if let network { network.snapshotReceived(m, file: file) } else { unlink(file) }
    }
    func admit(_ hello: PeerHello) -> String? {
        guard let network else { return "member is stopping" }
        return network.admit(hello)
    }
}

/// Request IDs for forwarded lease renewals and promotes.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func next() -> UInt64 { lock.withLock { value += 1; return value } }
}

private struct LeaseAnswer: Sendable {
    var first: Int64
    var second: Int64
}
