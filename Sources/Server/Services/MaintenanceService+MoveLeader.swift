import Foundation
import GRPCWire
import NIOCore
import Proto

/// etcdserverpb.Maintenance/MoveLeader: the leader hands leadership to a
/// voting member (Raft's leadership transfer) and answers once this member
/// sees the transferee as leader, as etcd's `EtcdServer.MoveLeader`.
struct MoveLeaderService {
    let backend: MaintenanceBackend
    let access: RequestAccess

    static let notLeader = ServerError(code: .failedPrecondition, message: "etcdserver: not leader")
    static let badTransferee = ServerError(code: .failedPrecondition, message: "etcdserver: bad leader transferee")
    /// etcd 3.4 has no gRPC mapping for this one: it reaches clients as Unknown.
    static let transferTimedOut = ServerError(code: .unknown,
                                              message: "etcdserver: request timed out, leader transfer took too long")

    func register(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.MaintenanceService.moveLeader) { request, context in
            _ = try await access.check(.admin, context)
            try await backend.moveLeader(to: request.targetID, deadline: context.deadline)
            var response = Etcdserverpb.MoveLeaderResponse()
            response.header = backend.currentHeader
            return response
        }
    }
}

extension EtcdServer {
    /// Transfers leadership from this member (which must lead) to `transferee`
    /// and waits, polling once per heartbeat, until it leads; gives up at the
    /// request's deadline or after the request timeout.
    func moveLeader(to transferee: UInt64, deadline: NIODeadline?) async throws {
        let status = loop.status
        guard status.isLeader else { throw MoveLeaderService.notLeader }
        guard membership.member(transferee) != nil, !status.learners.contains(transferee) else {
            throw MoveLeaderService.badTransferee
        }
        if transferee == memberID { return }
        logger.info("leadership transfer starting", metadata: [
            "local-member-id": "\(String(memberID, radix: 16))",
            "transferee-member-id": "\(String(transferee, radix: 16))",
        ])
        // Monotonic (NIODeadline's uptime), so a wall clock step neither
        // ends the wait at once nor stretches it.
        let started = NIODeadline.now()
        var giveUp = started + .milliseconds(Int64(requestTimeoutSeconds * 1000))
        if let deadline { giveUp = min(giveUp, deadline) }
        loop.transferLeader(to: transferee)
        let pollNanos = UInt64(options.heartbeatIntervalMs) * 1_000_000
        while loop.status.leader != transferee {
            if NIODeadline.now() >= giveUp { throw MoveLeaderService.transferTimedOut }
            try await Task.sleep(nanoseconds: pollNanos)
        }
        logger.info("leadership transfer finished", metadata: [
            "new-leader-member-id": "\(String(transferee, radix: 16))",
            "took": "\(Double((NIODeadline.now() - started).nanoseconds) / 1e9)s",
        ])
    }
}
