import Foundation
import GRPCWire
import NIOConcurrencyHelpers
import Testing
@testable import Server

/// A stream opened with `hasleader: true` (clientv3.WithRequireLeader, as
/// Kubernetes' watches) ends with "etcdserver: no leader" once its member
/// has known no leader for a few election timeouts, as etcd's monitorLeader
/// does; a client on a member cut off from the others then reconnects
/// elsewhere instead of waiting for events that never come.
@Suite struct RequireLeaderStreamTests {
    final class Member: MemberRole, @unchecked Sendable {
        let leader = NIOLockedValueBox<UInt64>(7)
        var isLearner: Bool { false }
        var knownLeader: UInt64 { leader.withLockedValue { $0 } }
    }

    static let path = "/etcdserverpb.Watch/Watch"

    /// The wrapped Watch handler waits for request messages until the
    /// client closes (never, here) or it is cancelled.
    func wrappedWatch(_ member: Member, started: NIOLockedValueBox<Bool>) throws -> GRPCRouter.Bidi {
        let router = GRPCRouter()
        router.bidi(Self.path) { stream, _, _ in
            started.withLockedValue { $0 = true }
            for try await _ in stream {}
        }
        ClientInterceptors.wrapAll(router, member: member, electionTimeoutMs: 5)
        guard case .bidi(let h)? = router.handler(for: Self.path) else { throw GRPCStatus(.internal, "no bidi handler") }
        return h
    }

    @Test func requireLeaderStreamEndsWhenTheLeaderStaysGone() async throws {
        let member = Member()
        let started = NIOLockedValueBox(false)
        let handler = try wrappedWatch(member, started: started)
        let (requests, open) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        defer { open.finish() }
        let context = GRPCRequestContext(headers: [("hasleader", "true")], path: Self.path)
        let call = Task { try await handler(GRPCRequestStream(requests), GRPCResponseWriter(send: { _ in }), context) }
        // The stream is open (past the check at its start), then the leader goes.
        while !started.withLockedValue({ $0 }) { try await Task.sleep(nanoseconds: 1_000_000) }
        member.leader.withLockedValue { $0 = 0 }
        // Bounds a hang only: the stream must end by itself.
        let ended = Task {
            try await Task.sleep(nanoseconds: 60_000_000_000)
            call.cancel()
        }
        defer { ended.cancel() }
        do {
            try await call.value
            Issue.record("the stream ended without an error")
        } catch let status as GRPCStatus {
            #expect(status == ServerError.noLeader.status, "\(status)")
        } catch {
            Issue.record("the stream did not end with no leader: \(error)")
        }
    }

    @Test func streamWithoutRequireLeaderFinishesNormally() async throws {
        let member = Member()
        member.leader.withLockedValue { $0 = 0 }
        let router = GRPCRouter()
        router.bidi(Self.path) { _, _, _ in }
        ClientInterceptors.wrapAll(router, member: member, electionTimeoutMs: 5)
        guard case .bidi(let h)? = router.handler(for: Self.path) else { throw GRPCStatus(.internal, "no bidi handler") }
        let (requests, open) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        defer { open.finish() }
        // A require-leader stream whose handler returns at once returns too
        // (the monitor is cancelled), while a leader is known.
        member.leader.withLockedValue { $0 = 7 }
        let context = GRPCRequestContext(headers: [("hasleader", "true")], path: Self.path)
        try await h(GRPCRequestStream(requests), GRPCResponseWriter(send: { _ in }), context)
    }
}
