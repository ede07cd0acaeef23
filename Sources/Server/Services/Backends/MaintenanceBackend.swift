import Logging
import MVCC
import NIOCore
import Proto

/// What the Maintenance, Health and MoveLeader services and the quota guard
/// need from the member: its Raft status, its own store (Status sizes,
/// Hash, Defragment and Snapshot act on this member's copy, as etcd's do),
/// the alarms, and proposals for Alarm.
protocol MaintenanceBackend: ResponseHeaders {
    var memberID: UInt64 { get }
    var status: NodeStatus { get }
    var store: MVCCStore { get }
    var alarms: AlarmStore { get }
    var quota: BackendQuota { get }
    /// The member's snap dir (where older versions left snapshot copies).
    var snapDir: String { get }
    /// Bounds the Snapshot streams reading the store at once.
    var snapshotStreams: SnapshotStreamLimiter { get }
    /// What an etcd backend file holds that the store does not, as of now.
    func etcdBackendExtras() -> EtcdBackendExtras
    var logger: Logger { get }
    /// Proposes through Raft and waits for the applied result.
    func propose(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?) async throws -> AppliedResult
    /// Waits until this member has applied everything committed when called (Downgrade's read of its state).
    func linearizableBarrier() async throws
    /// Hands leadership to `transferee`; waits until it leads.
    func moveLeader(to transferee: UInt64, deadline: NIODeadline?) async throws
    /// Proposes NOSPACE for this member unless it is already raised.
    func raiseNoSpaceAlarm() async
    /// Health NOT_SERVING while defragmenting (`--experimental-stop-grpc-service-on-defrag`).
    var defragHealth: DefragHealthGate { get }
}

extension MaintenanceBackend {
    /// Off (fakes in tests).
    var defragHealth: DefragHealthGate { DefragHealthGate(enabled: false, logger: logger) }
}

/// What every-request checks need (`ClientInterceptors`).
protocol MemberRole: Sendable {
    /// This member is a learner in the applied configuration.
    var isLearner: Bool { get }
    /// The leader this member knows (0: none).
    var knownLeader: UInt64 { get }
}
