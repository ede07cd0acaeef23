import Auth
import Config
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
/// service → `propose` → Raft → WAL → `ApplyPipeline` → MVCC → waiter.
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
    /// KV proposals made here, kept decoded for their apply.
    let proposalMemo = ProposalMemo()
    /// Membership changes proposed here, by request ID (see `ConfChangeContext`).
    let confWaits = WaitRegistry<UInt64>()
    let lessor: Lessor
    let watchHub: WatchHub
    /// Users, roles, permissions and tokens (Auth/); changed only by apply.
    let auth: AuthStore
    private(set) var leaseTimer: Task<Void, Never>?
    /// Fired when `stop()` begins: open streams end (see `StopInterceptor`).
    let stopping = OneShotSignal()
    /// This member's attributes were applied through Raft (`publishAttributes`).
    let published = OneShotSignal()
    /// Fired once the member is ready to serve clients (`EtcdServer+Ready`).
    let readiness = OneShotSignal()
    /// Called (once, on the Raft loop) when this member learns it was
    /// removed from the cluster; the executable then stops it (`stop()`).
    public var removedFromCluster: @Sendable () -> Void = {}
    /// Fired when this member learns it was removed (`stopAsRemoved`).
    let removed = OneShotSignal()
    /// Thresholds and wording of the slow-apply/request/fdatasync warnings.
    let slow: SlowWarnings
    /// Health answers NOT_SERVING during a defrag (`--experimental-stop-grpc-service-on-defrag`).
    let defragHealth: DefragHealthGate
    /// The cluster's alarms, applied through Raft (`ApplyBackend`).
    let alarms: AlarmStore
    let quota: BackendQuota
    let autoCompactor = AutoCompactor()
    let corruptionMonitor = CorruptionMonitor()
    /// Bounds the `Maintenance.Snapshot` streams reading the store at once.
    let snapshotStreams = SnapshotStreamLimiter(limit: MaintenanceService.maxConcurrentStreams)
    /// What /metrics reports beyond the server's state (Metrics/ServerMetrics).
    let metrics: ServerMetrics
    /// Held until the process exits: no second process opens this data dir.
    private let dataDirLock: DataDirLock
    /// The data dir held a member already (etcd runs the initial corruption check only then).
    let memberInitialized: Bool
    private let ids: RequestIDGenerator
    let group: MultiThreadedEventLoopGroup
    /// Certificates for https listeners and peer dials (TLS/).
    let tls: ServerTLS
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
        // A dir that exists is locked before anything else, so a second
        // process on it is told the dir is in use (not that a port is taken).
        let earlyLock = FileManager.default.fileExists(atPath: options.dataDir) ? try DataDirLock.acquire(dataDir: options.dataDir) : nil
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.eventLoopThreads))
        self.group = group
        // A start refused below (a port taken, a damaged file) leaves no
        // event loop thread behind.
        var constructed = false
        defer { if !constructed { try? group.syncShutdownGracefully() } }
        // etcd binds its listeners before touching the data dir: a taken
        // peer port fails start-up cleanly, leaving no half-made member.
        for listener in options.listenPeer { try PeerPortProbe.check(listener, reusePort: options.socketReusePort) }
        dataDirLock = try earlyLock ?? DataDirLock.acquire(dataDir: options.dataDir)
        let tls = try ServerTLS.make(options: options, logger: logger)
        self.tls = tls
        let dialer = PeerDialer(tls: tls.peerDialer)

        let hasWAL = try WAL.hasSegments(dir: layout.walDir)
        StartupLog.starting(options, memberInitialized: hasWAL, logger: logger)
        let start = try MemberStart.resolve(options: options, hasWAL: hasWAL, dialer: dialer, group: group)
        try FileManager.default.createDirectory(atPath: layout.snapDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: MVCCStore.dirMode])
        let membersPath = layout.memberDir + "/members.json"
        let members: [ClusterMember]
        if hasWAL {
            members = try MembersFile.load(path: membersPath)
        } else {
            members = start.members
            try Membership.writeInitial(members, path: membersPath)  // before the WAL exists
        }
        var storeOptions = MVCCStore.Options()
        storeOptions.compactionChunkKeys = max(1, options.compactionBatchLimit)
        storeOptions.compactionSleep = options.compactionSleep
        let clock = ContinuousClock()
        let opening = clock.now
        do { store = try MVCCStore(path: layout.dbPath, options: storeOptions) } catch let error as StoreFileError {
            throw DataFileError(error)
        }
        logger.info("opened backend db", metadata: ["path": .string(layout.dbPath), "took": .duration(clock.now - opening)])
        logger.info("kvstore restored", metadata: ["current-rev": .int(store.currentRevision)])
        if !hasWAL {  // before a new WAL is created next to a store that has data
            try StoreLogCheck.verify(.init(storeIndex: store.consistentIndex, walExisted: false, snapshotIndex: 0,
                                           lastLogIndex: 0), layout: layout, lastSegment: nil)
        }
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
        if hasWAL {
            let lastLogIndex = (try? restored.storage.lastIndex()) ?? restored.snapshotIndex
            let pendingInstall = StoreInstallMarker.pending(snapDir: layout.snapDir)
            try StoreLogCheck.verify(.init(storeIndex: store.consistentIndex, walExisted: true,
                                           snapshotIndex: restored.snapshotIndex, lastLogIndex: lastLogIndex,
                                           pendingInstallIndex: pendingInstall),
                                     layout: layout, lastSegment: StoreLogCheck.lastSegment(walDir: layout.walDir))
            // The log has caught up with the interrupted install: the note is spent.
            if let pendingInstall, lastLogIndex >= pendingInstall { try StoreInstallMarker.end(snapDir: layout.snapDir) }
        }
        memberID = restored.metadata.memberID
        memberInitialized = !restored.isNew
        let slow = self.slow
        restored.wal.fsyncObserver = { nanoseconds in
            metrics.walFsync.observe(nanoseconds: nanoseconds)
            slow.fdatasync(took: .nanoseconds(Int64(clamping: nanoseconds)))
        }
        bootClusterID = restored.metadata.clusterID
        membership = Membership.open(members: members, path: membersPath, options: options, localID: memberID, logger: logger)
        if membership.isRemoved(memberID) { throw MemberRemovedError(dataDir: options.dataDir) }
        // The peer port is bound whenever peer URLs are configured (etcd's
        // default http://localhost:2380), so a single member can grow with
        // MemberAdd.
        if !options.listenPeer.isEmpty {
            self.peers = try PeerNetwork(localID: memberID, clusterID: bootClusterID, membership: membership,
                                    attributes: MemberAttributes(name: options.name, clientURLs: options.advertiseClientURLs),
                                    snapDir: layout.snapDir, dialer: dialer,
                                    listenerTLS: options.listenPeer.first?.secure == true ? tls.peerListener : nil,
                                    group: group,
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
        let opened = store, dbFile = layout.dbPath + "/data.mdb"
        let leased = try DataFileError.readingStore(dbFile, "the leases") { try opened.leasesWithKeys() }
        lessor.load(leases: leased.leases, leasedKeys: leased.leasedKeys)
        watchHub = WatchHub(store: store, sharedBudget: ByteBudget.responses)  // one bound with unsent answers
        auth = try Self.makeAuthStore(options: options)
        alarms = AlarmStore(path: layout.memberDir + "/alarms")
        quota = BackendQuota(bytes: options.quotaBackendBytes)
        if quota.isDisabled {
            logger.info("disabled backend quota", metadata: ["quota-size-bytes": "\(quota.bytes)"])
        } else if quota.bytes > BackendQuota.maxRecommendedBytes {
            logger.warning("quota exceeds the maximum value", metadata: [
                "quota-size-bytes": "\(quota.bytes)", "quota-maximum-size-bytes": "\(BackendQuota.maxRecommendedBytes)",
            ])
        }
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
        loop.isWaiting = { [waits] id in waits.isRegistered(id) }
        loop.applier = ApplyPipeline(store: store, lessor: lessor, hub: watchHub, alarms: alarms, waits: applyWaits,
                                     auth: auth, memo: proposalMemo, logger: logger, slow: slow, batchLimit: options.backendBatchLimit,
                                     ops: metrics.mvccOps)
        if let pipeline = loop.applier as? ApplyPipeline {
            pipeline.backend.clusterVersionApplied = { [unowned self] in self.clusterVersionApplied($0, previous: $1) }
            pipeline.backend.memberAttributesApplied = { [unowned self] in self.memberAttributesApplied($0, json: $1) }
        }
        try DataFileError.readingStore(dbFile, "the auth records") { try loadAuth() }
        if let refusal = try DataFileError.readingStore(dbFile, "the downgrade state", { try DowngradeInfo.load(from: opened) })
            .startRefusal(serverVersion: SwiftEtcdVersion.etcdCompatible) {
            throw StartupError(refusal)
        }
        loop.confChangeApplied = { [unowned self] cc in self.confChangeApplied(cc) }
        // The lessor follows leadership at once, not at the next lease tick:
        // a lease granted just after an election must expire TTL seconds
        // after its grant, as etcd's (which promotes before applying the new
        // term's entries), not up to a tick plus the election timeout later.
        let extendSeconds = Double(options.electionTimeoutMs) / 1000
        loop.leaderChanged = { [lessor, memberID] leader in
            if leader != 0 { metrics.leaderChanges.add() }
            if leader == memberID { lessor.promoteIfNeeded(extendSeconds: extendSeconds) } else { lessor.demote() }
        }
        loop.onTick = { [applyWaits, confWaits, peers, unowned loop = self.loop] in
            let now = NIODeadline.now()
            // Proposed and not applied in time: etcd's "request timed out"; still
            // parked for want of a leader: its "context deadline exceeded".
            applyWaits.expire(now: now) { loop.isParked($0) ? ServerError.proposalDeadline : ServerError.timeout }
            confWaits.expire(now: now, ServerError.timeout)
            peers?.expireWaits(now: now)
        }
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
            let received = peers.receivedSnapshots
            loop.discardReceivedSnapshots = { received.discard(through: $0) }
            let loop = self.loop
            let membership = self.membership
            // A removed member's messages (votes) must not disturb the cluster;
            // nor may a term far ahead of ours (one forged message at 2^63-1 left
            // every member there for good: the next election's term no longer decodes).
            peers.onMessages = { messages in
                let termCap = loop.status.term &+ Self.maxPeerTermJump
                loop.deliver(messages.filter { membership.member($0.from) != nil && $0.term <= termCap })
            }
            peers.onReport = { loop.report($0) }
            peers.onRemoved = { [weak self] in self?.stopAsRemoved() }
            peers.onLeaseRequest = { [weak self] id, op in self?.leaseRequestFromFollower(id, op) ?? (LeaseOp.notLeader, 0) }
            peers.onPromoteRequest = { [weak self] id in
                guard let self else { return ServerError.stopped }
                return await self.promoteFromFollower(id)
            }
            peers.snapshotPayload = { [unowned self] in try self.snapshotPayload() }
            peers.clusterVersion = { [store] in ClusterVersion.load(from: store) }
            peers.probes.roundTrip = metrics.peerRoundTrip
            peers.probes.onHashRequest = { [store] revision in CorruptionCheck.answer(store: store, revision: revision) }
        }
        constructed = true
    }

    /// How far ahead of this member's term a peer's message may be. Real
    /// terms move by one per election: no member falls 2^32 elections behind.
    static let maxPeerTermJump: UInt64 = 1 << 32

    /// Starts Raft and the client listeners; returns the bound client ports.
    /// A start that fails part-way (a client, peer or metrics port taken)
    /// stops what it had started before throwing: no Raft, persist or event
    /// loop thread outlives it, so the caller may exit at once.
    @discardableResult
    public func start() async throws -> [Int] {
        do { return try await startServing() } catch {
            await shutDown(grace: .zero)
            throw error
        }
    }

    private func startServing() async throws -> [Int] {
        watchHub.start()
        if let peers {
            guard let listener = options.listenPeer.first else { throw StartupError("--listen-peer-urls is empty") }
            let port: Int
            do { port = try await peers.start(host: listener.host, port: listener.port) } catch {
                throw PeerPortProbe.describe(error, listener)
            }
            logger.info("serving peer traffic", metadata: ["address": "\(listener.host):\(port)"])
            if options.initialCorruptCheck && memberInitialized {
                try await CorruptionMonitor.initialCheck(server: self)
            }
            peers.startPinging()
        }
        loop.start()
        adjustTicks()
        startBackendSync()
        startLeaseTimer()
        let router = GRPCRouter()
        registerServices(on: router, access: AuthAccess(member: self))
        metrics.grpc.install(on: router)
        let http = HTTPEndpoints(server: self)
        let gateway = Gateway(router: router, maxMessageBytes: options.maxRequestBytes + 512 * 1024)
        let gatewayOn = options.enableGRPCGateway
        var ports: [Int] = []
        StartupLog.serving(options, memberID: memberID, logger: logger)
        let tls = self.tls
        let auth = self.auth
        // With --listen-client-http-urls, client URLs serve gRPC only and
        // the HTTP URLs HTTP/1.1 only (etcd 3.5).
        let splitHTTP = !options.listenClientHTTP.isEmpty
        for (listener, grpc) in options.listenClient.map({ ($0, true) }) + options.listenClientHTTP.map({ ($0, false) }) {
            var config = clientListenerConfig(listener)
            // etcd serves its client ports once the member is ready (becameReady).
            config.acceptsAtStart = false
            config.serveGRPC = grpc
            config.serveHTTP1 = !grpc || !splitHTTP
            if listener.secure {
                let kind: TLSListenerKind = !grpc ? .httpOnly : splitHTTP ? .grpcOnly : .grpcAndHTTP
                config.connectionInitializer = tls.clientListener(kind).map { side in { side.initialize($0) } }
            }
            let secure = listener.secure
            let server = GRPCServer(config: config, router: router, http1Service: { request in
                if gatewayOn, let refusal = Gateway.commonNameRefusal(request, authEnabled: auth.snapshot.enabled) {
                    return refusal
                }
                if gatewayOn && Gateway.serves(request.path) {
                    // Whom etcd's gateway would call gRPC as (its own client certificate).
                    switch secure ? tls.gatewayDial : .identity(nil) {
                    case .refused(let message):
                        return GatewayResponses.error(GRPCStatus(.unavailable, message))
                    case .identity(let cn):
                        return await gateway.handle(request, identity: GRPCConnectionIdentity(verifiedClientCertCommonName: cn))
                    }
                }
                return await http.handle(method: request.method, path: request.path, query: request.query)
            }, group: group, logger: logger)
            do { ports.append(try await server.start()) } catch { throw PeerPortProbe.describe(error, listener) }
            grpcServers.append(server)
        }
        try await startMetricsListeners()
        autoCompactor.start(server: self, retention: options.autoCompactionRetention)
        corruptionMonitor.start(server: self, intervalSeconds: Double(options.corruptCheckIntervalMs) / 1000)
        if options.compactHashCheckEnabled {
            corruptionMonitor.startCompactHashCheck(server: self, intervalMs: options.compactHashCheckIntervalMs)
        }
        publishAttributes()
        monitorClusterVersion()
        watchReadiness()
        return ports
    }

    /// Each service gets the narrow backend it needs (this member, seen
    /// through one protocol) and `access`, where every request's identity
    /// and permission check goes (issue 15 hands its auth store in here).
    /// How long after a call's grpc-timeout the server gives up on it. The
    /// client's own deadline must expire first: clientv3 retries a call that
    /// failed with DEADLINE_EXCEEDED while its context is still alive, even a
    /// Put, so a server deadline firing a moment early made a Put whose first
    /// attempt was already proposed get proposed twice (the linearizability
    /// test found the value written twice).
    static let deadlineGrace: TimeAmount = .milliseconds(200)

    private func registerServices(on router: GRPCRouter, access: RequestAccess) {
        let kv = KVService(backend: self, access: access)
        let lease = LeaseService(backend: self, access: access)
        let recipes = RecipeMaker(kv: kv, lease: lease, watch: self)
        kv.register(on: router)
        MaintenanceService(backend: self, access: access).register(on: router)
        WatchService(backend: self, access: access, progressNotifyIntervalMs: options.watchProgressNotifyIntervalMs,
                     maxResponseBytes: options.maxRequestBytes).register(on: router)
        lease.register(on: router)
        HealthService(backend: self, access: access).register(on: router)
        ClusterService(backend: self, access: access).register(on: router)
        AuthService(backend: self, access: access).register(on: router)
        LockService(recipes: recipes).register(on: router)
        ElectionService(recipes: recipes).register(on: router)
        MoveLeaderService(backend: self, access: access).register(on: router)
        QuotaGuard(backend: self).install(on: router)  // wraps the write handlers above
        ClientInterceptors.wrapAll(router, member: self, electionTimeoutMs: options.electionTimeoutMs)  // learner and hasleader checks come first
        RequestStatsInterceptor.wrapAll(router, warnings: slow)  // times the whole call
        StopInterceptor.wrapAll(router, stopping: stopping)  // outermost: a stop ends every stream
    }

    // MARK: used by the services

    /// Proposes a write through Raft and waits until it is applied here;
    /// `identity` (auth) travels in the entry's header to the apply chain.
    func propose(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?) async throws -> AppliedResult {
        try await propose(request, as: identity, asLeaderOf: nil)
    }

    /// `term`: proposed only as the leader of that term, never forwarded
    /// (`RaftLoop.proposeAsLeader`); nil: any member proposes or forwards it.
    func propose(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?,
                 asLeaderOf term: UInt64?) async throws -> AppliedResult {
        try GRPCRequestContext.checkDeadline()  // never propose what nobody waits for
        let (id, data) = try encodeProposal(request, as: identity)
        do {
            return try await applyWaits.wait(id: id, deadline: .after(seconds: requestTimeoutSeconds)) {
                if let term { loop.proposeAsLeader(id: id, data: data, term: term) } else { loop.propose(id: id, data: data) }
            }
        } catch {
            metrics.proposalsFailed.add()  // dropped, timed out or cancelled (etcd counts these)
            throw error
        }
    }

    /// The entry's bytes under a fresh request ID, with the proposer's
    /// identity in its header. Synchronous and out of line so the copy of the
    /// request (696 bytes) stays on the thread's stack: in `propose` it made
    /// the async frame bigger, one more task-allocator malloc per write.
    /// `remember`: the request is also kept decoded for its apply
    /// (`ProposalMemo`; only for requests `Validation` passed). `wire`: the
    /// request's bytes as received, which the entry then carries as they are.
    @inline(never)
    func encodeProposal(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?,
                        remember: Bool = false, wire: ProposalBytes? = nil) throws -> (UInt64, [UInt8]) {
        var request = request
        let id = ids.next()
        request.id = id
        var header = Swiftetcd.RequestHeader()
        header.id = id
        if let identity {
            header.username = identity.username
            header.authRevision = identity.authRevision
        }
        request.header = header
        let spliced = identity == nil ? wire?.entry(id: id, maxRequestBytes: options.maxRequestBytes) : nil
        let data = spliced ?? request.serializedBytes()
        if data.count - Self.idFieldBytes(id) > options.maxRequestBytes { throw ServerError.requestTooLarge }
        if remember { proposalMemo.remember(id: id, data: data, message: request) }
        return (id, data)
    }

    /// The bytes of field 1 (the ID) in an entry: etcd sets only the
    /// header's ID and measures the entry without it, so a request is too
    /// large exactly when etcd's would be (ours carries the ID twice).
    static func idFieldBytes(_ id: UInt64) -> Int {
        id == 0 ? 0 : 1 + (64 - id.leadingZeroBitCount + 6) / 7
    }

    func setLeaseTimer(_ timer: Task<Void, Never>) { leaseTimer = timer }

    func nextRequestID() -> UInt64 { ids.next() }

    /// Lease keep-alives and TTL queries are answered by the leader's lessor.
    func requireLeader() throws {
        guard loop.status.isLeader else { throw ServerError.noLeader }
        // Elected moments ago: start lease clocks now rather than refuse
        // until the lease timer notices.
        lessor.promoteIfNeeded(extendSeconds: Double(options.electionTimeoutMs) / 1000)
    }

    /// Returns once a linearizable read may be served from the local store.
    /// With no leader known (an election, lost peers) the read waits for
    /// one, as etcd's: "request timed out" after the request timeout, or the
    /// client's deadline/cancellation first.
    func linearizableBarrier() async throws {
        try GRPCRequestContext.checkDeadline()
        try await loop.waitLinearizable(timeoutSeconds: requestTimeoutSeconds)
    }

    func linearizableBarrier(deadline: NIODeadline?,
                             done: @escaping @Sendable (Error?) -> Void) throws -> (@Sendable () -> Void)? {
        if let deadline, deadline <= .now() {  // never start a round nobody waits for
            throw GRPCStatus(.deadlineExceeded, "context deadline exceeded")
        }
        return loop.registerLinearizable(timeoutSeconds: requestTimeoutSeconds, done: done)
    }

    var readsLocally: Bool { loop.servesReadsLocally }

    func header(revision: Int64, term: UInt64?) -> Etcdserverpb.ResponseHeader {
        var h = Etcdserverpb.ResponseHeader()
        h.clusterID = clusterID
        h.memberID = memberID
        h.revision = revision
        h.raftTerm = term ?? loop.status.term
        return h
    }
}

/// Unread watch streams count in the same budget as unsent HTTP/2 answers.
extension ByteBudget: SharedByteBudget {
    public var bytesFree: Int { totalBytes - bytesInUse }
}
