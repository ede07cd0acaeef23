import GRPCWire
import MVCC
import Proto

/// etcdserverpb.Lease (etcd's v3rpc/lease.go): grants and revokes go
/// through Raft; keep-alives, TimeToLive and Leases are answered by the
/// leader's lessor.
struct LeaseService {
    let backend: LeaseBackend
    let access: RequestAccess

    func register(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.LeaseService.leaseGrant) { request, context in try await grant(request, context) }
        router.unary(Etcdserverpb.LeaseService.leaseRevoke) { request, context in
            let identity = try await access.check(.lease(id: request.id), context)
            var proposal = Swiftetcd.InternalRaftRequest()
            proposal.leaseRevoke = request
            let (_, header) = try await backend.proposeWrite(proposal, as: identity)
            var out = Etcdserverpb.LeaseRevokeResponse()
            out.header = header
            return out
        }
        router.unary(Etcdserverpb.LeaseService.leaseTimeToLive) { request, context in
            _ = try await access.check(request.keys ? .lease(id: request.id) : .open, context)
            var out = Etcdserverpb.LeaseTimeToLiveResponse()
            out.header = backend.currentHeader
            out.id = request.id
            guard let ttl = try await backend.leaseTimeToLive(request.id) else {
                out.ttl = -1  // etcd answers an unknown lease with TTL -1
                return out
            }
            out.ttl = ttl.remainingSeconds
            out.grantedTTL = ttl.grantedTTLSeconds
            if request.keys { out.keys = ttl.keys }
            return out
        }
        router.unary(Etcdserverpb.LeaseService.leaseLeases) { _, context in
            _ = try await access.check(.open, context)
            var out = Etcdserverpb.LeaseLeasesResponse()
            out.header = backend.currentHeader
            out.leases = backend.leaseIDs().map {
                var s = Etcdserverpb.LeaseStatus()
                s.id = $0
                return s
            }
            return out
        }
        router.bidi(Etcdserverpb.LeaseService.leaseKeepAlive) { requests, writer, context in
            _ = try await access.check(.open, context)
            for try await request in requests {
                try await writer.send(keepAliveResponse(request.id, ttl: try await backend.renewLease(request.id)))
            }
        }
        // A keep-alive the leader answers at once goes back from the
        // connection's loop, without waking the stream's task.
        router.bidiInline(Etcdserverpb.LeaseService.leaseKeepAlive.path) { bytes, _ in
            guard let request = try? bytes.withUnsafeBytes({ try Etcdserverpb.LeaseKeepAliveRequest(serializedBytes: $0) }),
                  let ttl = backend.renewLeaseWithoutWaiting(request.id) else { return nil }
            return keepAliveResponse(request.id, ttl: ttl)
        }
    }

    private func keepAliveResponse(_ id: Int64, ttl: Int64) -> [UInt8] {
        var out = Etcdserverpb.LeaseKeepAliveResponse()
        out.id = id
        out.ttl = ttl
        out.header = backend.currentHeader
        return out.serializedBytes()
    }

    /// LeaseGrant's body, also called in-process (Lock and Election sessions).
    func grant(_ request: Etcdserverpb.LeaseGrantRequest,
               _ context: GRPCRequestContext) async throws -> Etcdserverpb.LeaseGrantResponse {
        let identity = try await access.check(.open, context)
        var grant = request
        // etcd picks a positive ID from the request-id generator.
        while grant.id == 0 { grant.id = Int64(bitPattern: backend.nextRequestID() & (UInt64(1) << 63 - 1)) }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.leaseGrant = grant
        let (response, header) = try await backend.proposeWrite(proposal, as: identity)
        guard case .noop = response else { throw ServerError.unexpectedResult }
        var out = Etcdserverpb.LeaseGrantResponse()
        out.header = header
        out.id = grant.id
        out.ttl = backend.grantedTTLSeconds(grant.id, requestedSeconds: grant.ttl)
        return out
    }
}
