import Foundation
import GRPCWire
import MVCC
import Proto

/// etcdserverpb.Lease (etcd's v3rpc/lease.go): grants and revokes go
/// through Raft; keep-alives, TimeToLive and Leases are answered by the
/// leader's lessor.
struct LeaseService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        router.unary(Etcdserverpb.LeaseService.leaseGrant) { request, _ in try await Self.grant(server, request) }
        router.unary(Etcdserverpb.LeaseService.leaseRevoke) { request, _ in
            var proposal = Swiftetcd.InternalRaftRequest()
            proposal.leaseRevoke = request
            let (_, header) = try await server.proposeWrite(proposal)
            var out = Etcdserverpb.LeaseRevokeResponse()
            out.header = header
            return out
        }
        router.unary(Etcdserverpb.LeaseService.leaseTimeToLive) { request, _ in
            var out = Etcdserverpb.LeaseTimeToLiveResponse()
            out.header = server.header(revision: server.store.currentRevision)
            out.id = request.id
            guard let ttl = try await server.leaseTimeToLive(request.id) else {
                out.ttl = -1  // etcd answers an unknown lease with TTL -1
                return out
            }
            out.ttl = ttl.remainingSeconds
            out.grantedTTL = ttl.grantedTTLSeconds
            if request.keys { out.keys = ttl.keys }
            return out
        }
        router.unary(Etcdserverpb.LeaseService.leaseLeases) { _, _ in
            var out = Etcdserverpb.LeaseLeasesResponse()
            out.header = server.header(revision: server.store.currentRevision)
            out.leases = server.lessor.ids().map {
                var s = Etcdserverpb.LeaseStatus()
                s.id = $0
                return s
            }
            return out
        }
        router.bidi(Etcdserverpb.LeaseService.leaseKeepAlive) { requests, writer, _ in
            for try await request in requests {
                var out = Etcdserverpb.LeaseKeepAliveResponse()
                out.id = request.id
                out.ttl = try await server.renewLease(request.id)
                out.header = server.header(revision: server.store.currentRevision)
                try await writer.send(out.serializedBytes())
            }
        }
    }

    /// LeaseGrant's body, also called in-process (Lock and Election sessions).
    static func grant(_ server: EtcdServer, _ request: Etcdserverpb.LeaseGrantRequest) async throws -> Etcdserverpb.LeaseGrantResponse {
        var grant = request
        // etcd picks a positive ID from the request-id generator.
        while grant.id == 0 { grant.id = Int64(bitPattern: server.nextRequestID() & (UInt64(1) << 63 - 1)) }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.leaseGrant = grant
        let (response, header) = try await server.proposeWrite(proposal)
        guard case .noop = response else { throw ServerError.unexpectedResult }
        var out = Etcdserverpb.LeaseGrantResponse()
        out.header = header
        out.id = grant.id
        out.ttl = server.lessor.timeToLive(grant.id)?.grantedTTLSeconds ?? max(grant.ttl, server.lessor.minTTLSeconds)
        return out
    }
}
