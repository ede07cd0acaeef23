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
    /// nil only without `--listen-peer-urls` (in-process tests).
    let peers: PeerNetwork?
    let applyWaits = WaitRegistry<AppliedResult>()
    /// Membership changes proposed here, by request ID (see `ConfChangeContext`).
    let confWaits = WaitRegistry<UInt64>()
    let lessor: Lessor
    let watchHub: WatchHub
    private(set) var leaseTimer: DispatchSourceTimer?
    /// Fired when `stop()` begins: open streams end (see `StopInterceptor`).
    let stopping = OneShotSignal()
    /// Fired once the member is ready to serve clients (`EtcdServer+Ready`).
    let readiness = OneShotSignal()
    /// Called (once, on the Raft loop) when this member learns it was
    /// removed from the cluster; the executable then stops it (`stop()`).
    public var removedFromCluster: @Sendable () -> Void = {}
    /// Alarms and the backend quota (Maintenance/).
    let maintenance: MaintenanceState
    /// What /metrics reports beyond the server's state (Maintenance/ServerMetrics).
    let metrics: ServerMetrics
    /// The data dir held a member already (etcd runs the initial corruption check only then).
    let memberInitialized: Bool
    private let applier: KVApplier
    /// Thresholds and wording of the slow-apply/request/fdatasync warnings.
    let slow: SlowWarnings
    /// Health answers NOT_SERVING during a defrag (`--experimental-stop-grpc-service-on-defrag`).
    let defragHealth: DefragHealthGate
    private let ids: RequestIDGenerator
    let group: MultiThreadedEventLoopGroup
    var grpcServers: [GRPCServer] = []  // client and metrics listeners
    /// How long a proposal or read may wait for Raft before etcd's
    /// "request timed out" (etcd: 5 s + 2 × election timeout).
    let requestTimeoutSeconds: Double

    public init(options: ServerOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        slow = SlowWarnings(logger: logger, applyThreshold: options.warningApplyDuration,
                            unaryThreshold: options.warningUnaryRequestDuration)
        defragHealth = DefragHealthGate(enabled: options.stopGRPCServiceOnDefrag, logger: logger)
        requestTimeoutSeconds = 5 + 2 * Double(options.electionTimeoutMs) / 1000

        let layout = DataDirLayout(dataDir: options.dataDir, dedicatedWALDir: options.walDir)
        if let message = SnapshotRestore.interruptedRestoreMessage(dataDir: options.dataDir) { throw StartupError(message) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.eventLoopThreads))
        self.group = group
        // etcd binds its listeners before touching the data dir: a taken
        // peer port fails start-up cleanly, leaving no half-made member.
        for listener in options.listenPeer { try PeerPortProbe.check(listener, reusePort: options.socketReusePort) }

        let hasWAL = WAL.exists(dir: layout.walDir)
        StartupLog.starting(options, memberInitialized: hasWAL, logger: logger)
        let start = try MemberStart.resolve(options: options, hasWAL: hasWAL, group: group)
        try FileManager.default.createDirectory(atPath: layout.snapDir, withIntermediateDirectories: true)
        var storeOptions = MVCCStore.Options()
        storeOptions.compactionChunkKeys = max(1, options.compactionBatchLimit)
        storeOptions.compactionSleep = options.compactionSleep
        let clock = ContinuousClock()
        let opening = clock.now
        store = try MVCCStore(path: layout.dbPath, options: storeOptions)
        logger.info("opened backend db", metadata: ["path": .string(layout.dbPath), "took": .duration(clock.now - opening)])
        logger.info("kvstore restored", metadata: ["current-rev": .int(store.currentRevision)])
        try BootstrapDefrag.run(store: store, dbPath: layout.dbPath, thresholdBytes: options.bootstrapDefragThresholdBytes,
                                logger: logger)
        let metrics = ServerMetrics(extensive: options.metricsExtensive)
        self.metrics = metrics
        store.commitObserver = { metrics.backendCommit.observe(nanoseconds: $0) }

        let raftConfig = RaftConfig(id: start.metadata.memberID, electionTicks: max(options.electionTimeoutMs / options.heartbeatIntervalMs, 2),
                                    heartbeatTicks: 1, preVote: options.preVote,
                                    randomSeed: UInt64.random(in: 1...UInt64.max), recordEvents: true)
        let settings = RestoredNode.Settings(
            wal: .server(maxSegments: options.maxWALs == 0 ? Int.max : options.maxWALs, unsafeNoFsync: options.unsafeNoFsync,
                         logger: logger),
            maxSnapshots: options.maxSnapshots == 0 ? Int.max : options.maxSnapshots, forceNewCluster: options.forceNewCluster)
        let restored = try RestoredNode.open(layout: layout, newMember: start.metadata, initialPeers: start.bootstrapPeers,
                                            raftConfig: raftConfig, settings: settings, logger: logger)
        memberID = restored.metadata.memberID
        memberInitialized = !restored.isNew
        let slow = self.slow
        restored.wal.fsyncObserver = { nanoseconds in
            metrics.walFsync.observe(nanoseconds: nanoseconds)
            slow.fdatasync(took: .nanoseconds(Int64(clamping: nanoseconds)))
        }
        bootClusterID = restored.metadata.clusterID
        membership = Membership.open(path: layout.memberDir + "/members.json", initialMembers: start.members,
                                     options: options, localID: memberID, logger: logger)
        // The peer port is bound whenever peer URLs are configured (etcd's
        // default http://localhost:2380), so a single member can grow with
        // MemberAdd.
        if !options.listenPeer.isEmpty {
            self.peers = try PeerNetwork(localID: memberID, clusterID: bootClusterID, membership: membership,
                                    attributes: MemberAttributes(name: options.name, clientURLs: options.advertiseClientURLs),
                                    snapDir: layout.snapDir, group: group,
                                    settings: PeerSettings(timeouts: PeerTimeouts(read: options.raftReadTimeout, write: options.raftWriteTimeout),
                                                           reusePort: options.socketReusePort),
                                    logger: logger)
        } else {
            self.peers = nil
        }
        ids = RequestIDGenerator(memberID: memberID)
        lessor = Lessor(minTTLSeconds: Lessor.minTTLSeconds(electionTimeoutMs: options.electionTimeoutMs,
                                                             heartbeatIntervalMs: options.heartbeatIntervalMs))
        lessor.usesPersistedRemainingTTL = options.leaseCheckpointPersist
        lessor.load(leases: try store.leases(), leasedKeys: try store.leasedKeys())
        watchHub = WatchHub(store: store)
        applier = KVApplier(store: store, lessor: lessor, hub: watchHub, waits: applyWaits, logger: logger, slow: slow)
        let waits = applyWaits
        loop = RaftLoop(node: restored.node, storage: restored.storage, wal: restored.wal, snapshots: restored.snapshots,
                        snapshotPolicy: SnapshotPolicy(snapshotCount: options.snapshotCount,
                                                        catchUpEntries: options.snapshotCatchUpEntries),
                        lastSnapshotIndex: restored.snapshotIndex, confState: restored.confState,
                        appliedIndex: restored.snapshotIndex,
                        tickInterval: Double(options.heartbeatIntervalMs) / 1000, transport: self.peers ?? NoPeers(),
                        memberID: memberID, logger: logger) { id, error in
            waits.trigger(id: id, .failure(error))
        }
        applier.batchLimit = options.backendBatchLimit
        maintenance = MaintenanceState(layout: layout, quotaBytes: options.quotaBackendBytes)
        loop.applier = maintenance.install(wrapping: applier, store: store, waits: applyWaits, logger: logger)
        loop.confChangeApplied = { [unowned self] cc in self.confChangeApplied(cc) }
        loop.leaderChanged = { metrics.leaderChanges.add() }
        let store = self.store
        // --unsafe-no-fsync: the WAL is released without making the store durable first.
        let syncStore = !options.unsafeNoFsync
        loop.beforeLogRelease = { [metrics] in
            if syncStore {
                try store.sync()
                metrics.backendSyncs.add()
            }
        }
        loop.installSnapshot = { [unowned self] in try self.installSnapshot($0) }
        if let peers {
            let loop = self.loop
            let membership = self.membership
            // A removed member's messages (votes) must not disturb the cluster.
            peers.onMessages = { loop.deliver($0.filter { membership.member($0.from) != nil }) }
            peers.onReport = { loop.report($0) }
            peers.onLeaseRequest = { [weak self] id, op in self?.leaseRequestFromFollower(id, op) ?? (LeaseOp.notLeader, 0) }
            peers.onPromoteRequest = { [weak self] id in
                guard let self else { return ServerError.stopped }
                return await self.promoteFromFollower(id)
            }
            peers.snapshotPayload = { [unowned self] in try self.snapshotPayload() }
            peers.probes.roundTrip = metrics.peerRoundTrip
            peers.probes.onHashRequest = { [store] revision in CorruptionCheck.answer(store: store, revision: revision) }
        }
    }

    /// Starts Raft and the client listeners; returns the bound client ports.
    @discardableResult
    public func start() async throws -> [Int] {
        watchHub.start()
        if let peers {
            guard let listener = options.listenPeer.first else { throw StartupError("--listen-peer-urls is empty") }
            let port: Int
            do { port = try await peers.start(host: listener.host, port: listener.port) } catch {
                throw PeerPortProbe.describe(error, listener)
            }
            logger.info("listening for peers", metadata: ["address": "\(listener.host):\(port)"])
            if options.initialCorruptCheck && memberInitialized {
                do { try await CorruptionMonitor.initialCheck(server: self) } catch {
                    await peers.stop()
                    throw error
                }
            }
            peers.startPinging()
        }
        loop.start()
        adjustTicks()
        startBackendSync()
        startLeaseTimer()
        let router = GRPCRouter()
        registerServices(on: router)
        metrics.grpc.install(on: router)
        let http = HTTPEndpoints(server: self)
        let gateway = Gateway(router: router, maxMessageBytes: options.maxRequestBytes + 512 * 1024)
        let gatewayOn = options.enableGRPCGateway
        var ports: [Int] = []
        for listener in options.listenClient {
            var config = GRPCServerConfig(host: listener.host, port: listener.port)
            config.maxRequestBytes = options.maxRequestBytes
            config.maxReceiveBytes = options.maxRequestBytes + 512 * 1024
            config.maxHTTP1BodyBytes = 2 * config.maxReceiveBytes
            config.maxConcurrentStreams = options.maxConcurrentStreams
            config.keepaliveMinTime = .milliseconds(Int64(options.grpcKeepaliveMinTimeMs))
            config.keepaliveInterval = .milliseconds(Int64(options.grpcKeepaliveIntervalMs))
            config.keepaliveTimeout = .milliseconds(Int64(options.grpcKeepaliveTimeoutMs))
            config.reusePort = options.socketReusePort
            let server = GRPCServer(config: config, router: router, http1Service: { request in
                if gatewayOn && Gateway.serves(request.path) { return await gateway.handle(request) }
                return await http.handle(method: request.method, path: request.path, query: request.query)
            }, group: group, logger: logger)
            ports.append(try await server.start())
            grpcServers.append(server)
        }
        try await startMetricsListeners()
        maintenance.autoCompactor.start(server: self, retention: options.autoCompactionRetention)
        maintenance.corruptionMonitor.start(server: self, intervalSeconds: Double(options.corruptCheckIntervalMs) / 1000)
        if options.compactHashCheckEnabled {
            maintenance.corruptionMonitor.startCompactHashCheck(server: self, intervalMs: options.compactHashCheckIntervalMs)
        }
        watchReadiness()
        return ports
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
        ClientInterceptors.wrapAll(router, server: self)  // learner and hasleader checks come first
        RequestStatsInterceptor.wrapAll(router, warnings: slow)  // times the whole call
        StopInterceptor.wrapAll(router, stopping: stopping)  // outermost: a stop ends every stream
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
        do {
            return try await applyWaits.wait(id: id) {
                loop.propose(id: id, data: data)
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [applyWaits] in
                    applyWaits.trigger(id: id, .failure(ServerError.timeout))
                }
            }
        } catch {
            metrics.proposalsFailed.add()  // dropped, timed out or cancelled (etcd counts these)
            throw error
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
