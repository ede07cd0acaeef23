import Foundation
import GRPCWire
import MVCC
import Proto

/// etcdserverpb.KV: validate → read locally or propose through Raft → map
/// the store's answer (as etcd's v3rpc/key.go, and no more).
struct KVService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let server = self.server
        router.unary(Etcdserverpb.KVService.range) { request, _ in try await Self.range(server, request) }
        router.unary(Etcdserverpb.KVService.put) { request, _ in
            try Validation.check(KVMapping.put(request))
            var proposal = Swiftetcd.InternalRaftRequest()
            proposal.put = request
            let (response, header) = try await server.proposeWrite(proposal)
            guard case .put(let put) = response else { throw ServerError.unexpectedResult }
            return KVMapping.putResponse(put, header: header)
        }
        router.unary(Etcdserverpb.KVService.deleteRange) { request, _ in try await Self.deleteRange(server, request) }
        router.unary(Etcdserverpb.KVService.txn) { request, _ in try await Self.txn(server, request) }
        router.unary(Etcdserverpb.KVService.compact) { request, _ in
            var proposal = Swiftetcd.InternalRaftRequest()
            proposal.compaction = request
            let (response, header) = try await server.proposeWrite(proposal)
            guard case .compact = response else { throw ServerError.unexpectedResult }
            if request.physical {
                let store = server.store
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().async {
                        store.waitForCompaction(request.revision)
                        c.resume()
                    }
                }
            }
            var out = Etcdserverpb.CompactionResponse()
            out.header = header
            return out
        }
    }

    // The handlers' bodies, also called in-process (Lock, Election).

    static func range(_ server: EtcdServer, _ request: Etcdserverpb.RangeRequest) async throws -> Etcdserverpb.RangeResponse {
        let range = KVMapping.range(request)
        try Validation.check(range)
        if !request.serializable { try await server.linearizableBarrier() }
        let clock = ContinuousClock()
        let began = clock.now
        let response = try server.store.range(range)
        server.slow.apply(took: clock.now - began, prefix: "read-only range ", request: RequestText.range(request),
                          response: "range_response_count:\(response.kvs.count) size:\(response.kvs.reduce(0) { $0 + $1.key.count + $1.value.count })")
        return KVMapping.rangeResponse(response, header: server.header(revision: response.revision))
    }

    static func deleteRange(_ server: EtcdServer,
                            _ request: Etcdserverpb.DeleteRangeRequest) async throws -> Etcdserverpb.DeleteRangeResponse {
        try Validation.check(KVMapping.deleteRange(request))
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.deleteRange = request
        let (response, header) = try await server.proposeWrite(proposal)
        guard case .deleteRange(let deleted) = response else { throw ServerError.unexpectedResult }
        return KVMapping.deleteRangeResponse(deleted, header: header)
    }

    static func txn(_ server: EtcdServer, _ request: Etcdserverpb.TxnRequest) async throws -> Etcdserverpb.TxnResponse {
        let txn = KVMapping.txn(request)
        try Validation.check(txn, maxTxnOps: server.options.maxTxnOps)
        if txn.isReadOnly {
            // etcd serves read-only txns without Raft; linearizable unless
            // every range in them asked for serializable.
            if !Self.isSerializable(request) { try await server.linearizableBarrier() }
            let clock = ContinuousClock()
            let began = clock.now
            let response = try server.store.readOnlyTxn(txn)
            server.slow.apply(took: clock.now - began, prefix: "read-only txn ", request: RequestText.describe(.txn(txn)))
            return KVMapping.txnResponse(response, header: server.header(revision: response.revision))
        }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.txn = request
        let (response, header) = try await server.proposeWrite(proposal)
        guard case .txn(let result) = response else { throw ServerError.unexpectedResult }
        return KVMapping.txnResponse(result, header: header)
    }

    /// True when every Range in the txn (at any depth) is serializable.
    static func isSerializable(_ txn: Etcdserverpb.TxnRequest) -> Bool {
        (txn.success + txn.failure).allSatisfy { op in
            switch op.request {
            case .requestRange(let r)?: return r.serializable
            case .requestTxn(let t)?: return isSerializable(t)
            default: return true
            }
        }
    }
}

extension EtcdServer {
    /// Proposes a KV write and returns the store's answer with the header
    /// etcd sends (revision after the write, term it was applied in).
    func proposeWrite(_ request: Swiftetcd.InternalRaftRequest) async throws -> (WriteResponse, Etcdserverpb.ResponseHeader) {
        let applied = try await propose(request)
        let response = try applied.response.get()
        return (response, header(revision: response.revision, term: applied.term))
    }
}
