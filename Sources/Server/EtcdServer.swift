import Foundation
import GRPCWire
import Logging
import MVCC
import NIOCore
import NIOPosix
import Proto
import Raft
import WAL

/// One etcd member: the MVCC store, the Raft loop with its WAL, and the
/// client-facing gRPC/HTTP listeners. A request flows
/// service → `propose` → Raft → WAL → `KVApplier` → MVCC → waiter.
public final class EtcdServer: @unchecked Sendable {
    public let options: ServerOptions
    let logger: Logger
    let memberID: UInt64
    /// A joining member learns the cluster ID from its peers' hellos.
    var clusterID: UInt64 { peers?.clusterID ?? bootClusterID }
    private let bootClusterID: UInt64
    let store: MVCCStore
    let loop: RaftLoop
    let membership: Membership
    /// nil for a single-member cluster (no peer port is bound).
    let peers: PeerNetwork?
    let applyWaits = WaitRegistry<AppliedResult>()
    /// Membership changes proposed here, by request ID (see `ConfChangeContext`).
    let confWaits = WaitRegistry<UInt64>()
    let lessor: Lessor
    let watchHub: WatchHub
    private var leaseTimer: DispatchSourceTimer?
    /// Alarms and the backend quota (Maintenance/).
    let maintenance: MaintenanceState
    private let applier: KVApplier
    private let ids: RequestIDGenerator
    private let group: MultiThreadedEventLoopGroup
    private var grpcServers: [GRPCServer] = []
    /// How long a proposal or read may wait for Raft before etcd's
    /// "request timed out" (etcd: 5 s + 2 × election timeout).
    let requestTimeoutSeconds: Double

    public init(options: ServerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        requestTimeoutSeconds = 5 + 2 * Double(options.electionTimeoutMs) / 1000

        // `existing`: a member added with MemberAdd joins a running cluster;
        // it does not bootstrap and learns the cluster ID from its peers.
        let joining = !options.initialClusterStateNew
        let initialPeerIDs = options.initialCluster.map {
            MemberIdentity.memberID(peerURLs: $0.peerURLs, clusterToken: options.initialClusterToken)
        }
        let newMember = MemberMetadata(
            memberID: MemberIdentity.memberID(peerURLs: options.initialAdvertisePeerURLs, clusterToken: options.initialClusterToken),
            clusterID: joining ? 0 : MemberIdentity.clusterID(memberIDs: initialPeerIDs))
        if !initialPeerIDs.contains(newMember.memberID) {
            throw StartupError("couldn't find local name \"\(options.name)\" with --initial-advertise-peer-urls \(options.initialAdvertisePeerURLs.joined(separator: ",")) in the initial cluster configuration")
        }

        let layout = DataDirLayout(dataDir: options.dataDir)
        if let message = SnapshotRestore.interruptedRestoreMessage(dataDir: options.dataDir) { throw StartupError(message) }
        try FileManager.default.createDirectory(atPath: layout.snapDir, withIntermediateDirectories: true)
        store = try MVCCStore(path: layout.dbPath)

        let raftConfig = RaftConfig(id: newMember.memberID, electionTicks: max(options.electionTimeoutMs / options.heartbeatIntervalMs, 2),
                                    heartbeatTicks: 1, randomSeed: UInt64.random(in: 1...UInt64.max))
        let restored = try RestoredNode.open(layout: layout, newMember: newMember, initialPeers: joining ? [] : initialPeerIDs,
                                            raftConfig: raftConfig, logger: logger)
        memberID = restored.metadata.memberID
        bootClusterID = restored.metadata.clusterID
        membership = Membership.open(path: layout.memberDir + "/members.json", options: options,
                                     localID: memberID, logger: logger)
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.eventLoopThreads))
        if membership.count > 1 {
            self.peers = try PeerNetwork(localID: memberID, clusterID: bootClusterID, membership: membership,
                                    attributes: MemberAttributes(name: options.name, clientURLs: options.advertiseClientURLs),
                                    group: group, logger: logger)
        } else {
            self.peers = nil
        }
        ids = RequestIDGenerator(memberID: memberID)
        lessor = Lessor(minTTLSeconds: Lessor.minTTLSeconds(electionTimeoutMs: options.electionTimeoutMs,
                                                             heartbeatIntervalMs: options.heartbeatIntervalMs))
        lessor.load(leases: try store.leases(), leasedKeys: try store.leasedKeys())
        watchHub = WatchHub(store: store)
        applier = KVApplier(store: store, lessor: lessor, hub: watchHub, waits: applyWaits, logger: logger)
        let waits = applyWaits
        loop = RaftLoop(node: restored.node, storage: restored.storage, wal: restored.wal, snapshots: restored.snapshots,
                        snapshotPolicy: SnapshotPolicy(snapshotCount: options.snapshotCount),
                        lastSnapshotIndex: restored.snapshotIndex, confState: restored.confState,
                        appliedIndex: restored.snapshotIndex,
                        tickInterval: Double(options.heartbeatIntervalMs) / 1000, transport: self.peers ?? NoPeers(),
                        memberID: memberID, logger: logger) { id, error in
            waits.trigger(id: id, .failure(error))
        }
        maintenance = MaintenanceState(layout: layout, quotaBytes: options.quotaBackendBytes)
        loop.applier = maintenance.install(wrapping: applier, store: store, waits: applyWaits, logger: logger)
        loop.confChangeApplied = { [unowned self] cc in self.confChangeApplied(cc) }
        let store = self.store
        loop.beforeLogRelease = { try store.sync() }
        if let peers {
            let loop = self.loop
            let membership = self.membership
            // A removed member's messages (votes) must not disturb the cluster.
            peers.onMessages = { loop.deliver($0.filter { membership.member($0.from) != nil }) }
            peers.onReport = { loop.report($0) }
            peers.onLeaseRequest = { [weak self] id, op in self?.leaseRequestFromFollower(id, op) ?? (LeaseOp.notLeader, 0) }
        }
    }

    /// Starts Raft and the client listeners; returns the bound client ports.
    @discardableResult
    public func start() async throws -> [Int] {
        watchHub.start()
        if let peers {
            guard let listener = options.listenPeer.first else { throw StartupError("--listen-peer-urls is empty") }
            let port = try await peers.start(host: listener.host, port: listener.port)
            logger.info("listening for peers", metadata: ["address": "\(listener.host):\(port)"])
        }
        loop.start()
        startLeaseTimer()
        let router = GRPCRouter()
        registerServices(on: router)
        let http = HTTPEndpoints(server: self)
        var ports: [Int] = []
        for listener in options.listenClient {
            var config = GRPCServerConfig(host: listener.host, port: listener.port)
            config.maxRequestBytes = options.maxRequestBytes
            config.maxReceiveBytes = options.maxRequestBytes + 512 * 1024
            config.maxConcurrentStreams = options.maxConcurrentStreams
            config.keepaliveMinTime = .milliseconds(Int64(options.grpcKeepaliveMinTimeMs))
            config.keepaliveInterval = .milliseconds(Int64(options.grpcKeepaliveIntervalMs))
            config.keepaliveTimeout = .milliseconds(Int64(options.grpcKeepaliveTimeoutMs))
            let server = GRPCServer(config: config, router: router, http1: { method, path, query in
                await http.handle(method: method, path: path, query: query)
            }, group: group, logger: logger)
            ports.append(try await server.start())
            grpcServers.append(server)
        }
        maintenance.autoCompactor.start(server: self, retention: options.autoCompactionRetention)
        logger.info("ready to serve client requests", metadata: [
            "member-id": "\(String(memberID, radix: 16))", "cluster-id": "\(String(clusterID, radix: 16))",
        ])
        return ports
    }

    /// Graceful stop: listeners drain, Raft stops, the store is synced and closed.
    public func stop() async {
        maintenance.autoCompactor.stop()
        for server in grpcServers { try? await server.shutdown() }
        leaseTimer?.cancel()
        watchHub.stop()
        loop.stop()
        await peers?.stop()
        applyWaits.failAll(ServerError.stopped)
        try? store.sync()
        store.close()
        try? await group.shutdownGracefully()
    }

    private func registerServices(on router: GRPCRouter) {
        KVService(server: self).register(on: router)
        MaintenanceService(server: self).register(on: router)
        WatchService(server: self).register(on: router)
        LeaseService(server: self).register(on: router)
        HealthService(server: self).register(on: router)
        ClusterService(server: self).register(on: router)
        AuthService(server: self).register(on: router)
        LockService(server: self).register(on: router)
        ElectionService(server: self).register(on: router)
        MoveLeaderService(server: self).register(on: router)
        QuotaGuard(server: self).install(on: router)  // wraps the write handlers above
        ClientInterceptors.wrapAll(router, server: self)  // last: learner and hasleader checks come first
    }

    // MARK: used by the services

    /// Proposes a write through Raft and waits until it is applied here.
    func propose(_ request: Swiftetcd.InternalRaftRequest) async throws -> AppliedResult {
        var request = request
        let id = ids.next()
        request.id = id
        var header = Swiftetcd.RequestHeader()
        header.id = id
        request.header = header
        let data = request.serializedBytes()
        if data.count > options.maxRequestBytes { throw ServerError.requestTooLarge }
        let timeout = requestTimeoutSeconds
        return try await applyWaits.wait(id: id) {
            loop.propose(id: id, data: data)
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [applyWaits] in
                applyWaits.trigger(id: id, .failure(ServerError.timeout))
            }
        }
    }

    func setLeaseTimer(_ timer: DispatchSourceTimer) { leaseTimer = timer }

    func nextRequestID() -> UInt64 { ids.next() }

    /// Lease keep-alives and TTL queries are answered by the leader's lessor.
    func requireLeader() throws {
        guard loop.status.isLeader else { throw ServerError.noLeader }
        // Elected moments ago: start lease clocks now rather than refuse
        // until the lease timer notices.
        lessor.promoteIfNeeded(extendSeconds: Double(options.electionTimeoutMs) / 1000)
    }

    /// Returns once a linearizable read may be served from the local store.
    func linearizableBarrier() async throws {
        if peers != nil && loop.status.leader == 0 { throw ServerError.noLeader }
        try await loop.waitLinearizable(timeoutSeconds: requestTimeoutSeconds)
    }

    func header(revision: Int64, term: UInt64? = nil) -> Etcdserverpb.ResponseHeader {
        var h = Etcdserverpb.ResponseHeader()
        h.clusterID = clusterID
        h.memberID = memberID
        h.revision = revision
        h.raftTerm = term ?? loop.status.term
        return h
    }
}
