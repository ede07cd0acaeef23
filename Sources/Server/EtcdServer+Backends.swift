import GRPCWire
import MVCC
import NIOCore
import Proto

// The member as each service sees it: one narrow protocol per service
// (Services/Backends/), so a service can be tested against a fake.

extension EtcdServer: KVBackend, LeaseBackend, WatchBackend, ClusterBackend, MaintenanceBackend, MemberRole {
    var currentRevision: Int64 { store.currentRevision }

    var status: NodeStatus { loop.status }

    var maxTxnOps: Int { options.maxTxnOps }

    var snapDir: String { DataDirLayout(dataDir: options.dataDir).snapDir }

    var members: [ClusterMember] { membership.all }

    var isLearner: Bool { membership.member(memberID)?.isLearner == true }

    var knownLeader: UInt64 { loop.status.leader }

    func proposeWrite(_ request: Swiftetcd.InternalRaftRequest,
                      as identity: RequestIdentity?) async throws -> (WriteResponse, Etcdserverpb.ResponseHeader) {
        let applied = try await propose(request, as: identity)
        let response = try applied.response.get()
        return (response, header(revision: response.revision, term: applied.term))
    }

    func proposeWrite(_ request: Swiftetcd.InternalRaftRequest, as identity: RequestIdentity?, wire: ProposalBytes?,
                      deadline: NIODeadline?, done: @escaping @Sendable (Result<(WriteResponse, Etcdserverpb.ResponseHeader), Error>) -> Void)
        throws -> (@Sendable () -> Void)? {
        if let deadline, deadline <= .now() {  // never propose what nobody waits for
            throw GRPCStatus(.deadlineExceeded, "context deadline exceeded")
        }
        // The KV service's callback forms, the only callers, validated the request.
        let (id, data) = try encodeProposal(request, as: identity, remember: true, wire: wire)
        let waits = applyWaits
        try waits.register(id: id, deadline: .after(seconds: requestTimeoutSeconds), done: { [self] result in
            switch result {
            case .success(let applied):
                done(applied.response.mapError { $0 as Error }.map { ($0, header(revision: $0.revision, term: applied.term)) })
            case .failure(let error):
                proposalMemo.forget(id: id)
                metrics.proposalsFailed.add()  // dropped, timed out or cancelled, as in `propose`
                done(.failure(error))
            }
        }) { loop.propose(id: id, data: data) }
        return { waits.cancel(id: id) }
    }

    func range(_ request: RangeRequest) throws -> RangeResponse {
        let response = try store.range(request)
        metrics.mvccOps.ranges.add()
        return response
    }

    func rangeEncoded(_ request: RangeRequest, headroom: Int, header: (Int64) -> [UInt8]) throws -> EncodedRange? {
        guard let encoded = try store.rangeEncoded(request, headroom: headroom, header: header) else { return nil }
        metrics.mvccOps.ranges.add()
        return encoded
    }

    func readOnlyTxn(_ txn: TxnRequest) throws -> TxnResponse {
        let response = try store.readOnlyTxn(txn)
        metrics.mvccOps.record(.of(response))
        return response
    }

    func waitForCompaction(_ revision: Int64) async {
        let store = self.store
        _ = try? await offLoop { store.waitForCompaction(revision) }
    }

    func leaseIDs() -> [Int64] { lessor.ids() }

    func grantedTTLSeconds(_ id: Int64, requestedSeconds: Int64) -> Int64 {
        lessor.timeToLive(id)?.grantedTTLSeconds ?? max(requestedSeconds, lessor.minTTLSeconds)
    }

    func value(of key: [UInt8], at revision: Int64) -> KeyValue? { try? store.get(key, revision: revision) }
}
