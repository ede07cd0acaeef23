import GRPCWire
import MVCC
import Proto

/// etcdserverpb.KV: check access → validate → read locally or propose
/// through Raft → map the store's answer (as etcd's v3rpc/key.go, and no
/// more). Holds only the `KVBackend` it needs, so it runs against a fake.
struct KVService {
    let backend: KVBackend
    let access: RequestAccess

    func register(on router: GRPCRouter) {
        router.unary(Etcdserverpb.KVService.range) { request, context in try await range(request, context) }
        router.unaryInline(Etcdserverpb.KVService.range) { request, context in try rangeInline(request, context) }
        router.unaryCallback(Etcdserverpb.KVService.range) { request, context, reply in try range(request, context, reply) }
        router.unary(Etcdserverpb.KVService.put) { request, context in try await put(request, context) }
        router.unaryCallbackWithBytes(Etcdserverpb.KVService.put) { request, bytes, context, reply in
            try put(request, context, reply, wire: bytes)
        }
        router.unary(Etcdserverpb.KVService.deleteRange) { request, context in try await deleteRange(request, context) }
        router.unaryCallbackWithBytes(Etcdserverpb.KVService.deleteRange) { request, bytes, context, reply in
            try deleteRange(request, context, reply, wire: bytes)
        }
        router.unary(Etcdserverpb.KVService.txn) { request, context in try await txn(request, context) }
        router.unaryCallbackWithBytes(Etcdserverpb.KVService.txn) { request, bytes, context, reply in
            try txn(request, context, reply, wire: bytes)
        }
        router.unary(Etcdserverpb.KVService.compact) { request, context in try await compact(request, context) }
    }

    // The callback forms: the same checks in the same order as the async
    // handlers below, then the proposal, answered from the apply without a
    // task (`KVBackend.proposeWrite(_:as:deadline:done:)`), or the read,
    // served on the connection's loop once the ReadIndex round lets it
    // (`KVBackend.linearizableBarrier(deadline:done:)`). False (auth has to
    // be asked, a fake backend) hands the call to the async handler.

    func range(_ request: Etcdserverpb.RangeRequest, _ context: GRPCRequestContext, _ reply: GRPCUnaryReply) throws -> Bool {
        let range = KVMapping.range(request)
        try Validation.check(range)
        guard access.isAnonymousWithoutWaiting(context) else { return false }
        return try read(linearizable: !request.serializable, context, reply) {
            try serveRangeBytes(range, request, nil, headroom: GRPCUnaryReply.headroom)
        }
    }

    // `wire`: the request's bytes as received (the Raft entry carries them).

    func put(_ request: Etcdserverpb.PutRequest, _ context: GRPCRequestContext, _ reply: GRPCUnaryReply,
             wire: [UInt8]? = nil) throws -> Bool {
        try Validation.check(KVMapping.put(request))
        guard access.isAnonymousWithoutWaiting(context) else { return false }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.put = request
        return try propose(proposal, wire.map { ProposalBytes(field: .put, request: $0) }, context, reply) { response, header in
            guard case .put(let put) = response else { throw ServerError.unexpectedResult }
            return KVResponseBytes.put(put, header: header, headroom: GRPCUnaryReply.headroom)
        }
    }

    func deleteRange(_ request: Etcdserverpb.DeleteRangeRequest, _ context: GRPCRequestContext,
                     _ reply: GRPCUnaryReply, wire: [UInt8]? = nil) throws -> Bool {
        try Validation.check(KVMapping.deleteRange(request))
        guard access.isAnonymousWithoutWaiting(context) else { return false }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.deleteRange = request
        return try propose(proposal, wire.map { ProposalBytes(field: .deleteRange, request: $0) }, context, reply) { response, header in
            guard case .deleteRange(let deleted) = response else { throw ServerError.unexpectedResult }
            return KVResponseBytes.deleteRange(deleted, header: header, headroom: GRPCUnaryReply.headroom)
        }
    }

    func txn(_ request: Etcdserverpb.TxnRequest, _ context: GRPCRequestContext, _ reply: GRPCUnaryReply,
             wire: [UInt8]? = nil) throws -> Bool {
        let txn = KVMapping.txn(request)
        try Validation.check(txn, maxTxnOps: backend.maxTxnOps, maxDepth: ProtoLimits.maxTxnDepth)
        guard access.isAnonymousWithoutWaiting(context) else { return false }
        if txn.isServedWithoutRaft {
            return try read(linearizable: !Self.isSerializable(request), context, reply) {
                let (response, header) = try serveReadOnlyTxnResult(txn, nil)
                return KVResponseBytes.txn(response, header: header, headroom: GRPCUnaryReply.headroom)
            }
        }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.txn = request
        return try propose(proposal, wire.map { ProposalBytes(field: .txn, request: $0) }, context, reply) { response, header in
            guard case .txn(let result) = response else { throw ServerError.unexpectedResult }
            return KVResponseBytes.txn(result, header: header, headroom: GRPCUnaryReply.headroom)
        }
    }

    /// `encode` leaves `GRPCUnaryReply.headroom` bytes free in front (the
    /// frame header goes there: no copy of the answer to frame it).
    private func propose(_ proposal: Swiftetcd.InternalRaftRequest, _ wire: ProposalBytes?, _ context: GRPCRequestContext,
                         _ reply: GRPCUnaryReply,
                         _ encode: @escaping @Sendable (WriteResponse, Etcdserverpb.ResponseHeader) throws -> [UInt8]) throws -> Bool {
        let withdraw = try backend.proposeWrite(proposal, as: nil, wire: wire, deadline: context.deadline) { result in
            reply.answer(result, framed: true) { try encode($0.0, $0.1) }
        }
        guard let withdraw else { return false }
        // Set before the answer can run: that waits for this loop turn.
        reply.onCancel = withdraw
        return true
    }

    /// Answers a read through `reply` on the connection's loop (`serve`
    /// leaves `GRPCUnaryReply.headroom` bytes free in front of its message): after this
    /// loop turn when it needs no ReadIndex round (as a task would run it,
    /// so a large scan does not hold up the call that started it), else
    /// once the round is done; a leaderless wait ends in "request timed
    /// out", as `linearizableBarrier`'s.
    private func read(linearizable: Bool, _ context: GRPCRequestContext, _ reply: GRPCUnaryReply,
                      _ serve: @escaping @Sendable () throws -> [UInt8]) throws -> Bool {
        if !linearizable || backend.readsLocally {
            reply.answer(.success(()), framed: true) { try serve() }
            return true
        }
        let withdraw = try backend.linearizableBarrier(deadline: context.deadline) { error in
            reply.answer(error.map { .failure($0) } ?? .success(()), framed: true) { try serve() }
        }
        guard let withdraw else { return false }
        // Set before the answer can run: that waits for this loop turn.
        reply.onCancel = withdraw
        return true
    }

    // The handlers' bodies, also called in-process (Lock, Election).

    func range(_ request: Etcdserverpb.RangeRequest, _ context: GRPCRequestContext) async throws -> Etcdserverpb.RangeResponse {
        let range = KVMapping.range(request)
        try Validation.check(range)
        let identity = try await access.check(.read(key: request.key, rangeEnd: request.rangeEnd), context)
        if !request.serializable { try await backend.linearizableBarrier() }
        return try serveRange(range, request, identity)
    }

    /// A one-key Range answered on the connection's event loop, without a
    /// task: when no permission check has to wait (auth off, no token) and
    /// the read needs no ReadIndex round (serializable, or the sole member's
    /// gate is open, `KVBackend.readsLocally`). Nil hands the call to `range`.
    /// Only one-key reads: a range's count scans every key in it, limit or
    /// not, and a large scan must not hold up the connection's other calls.
    /// Same checks in the same order as `range`, so the same answers; encoded
    /// after `GRPCUnaryReply.headroom` free bytes (`serveRangeBytes`).
    func rangeInline(_ request: Etcdserverpb.RangeRequest, _ context: GRPCRequestContext) throws -> [UInt8]? {
        guard request.rangeEnd.isEmpty else { return nil }
        let range = KVMapping.range(request)
        try Validation.check(range)
        guard access.isAnonymousWithoutWaiting(context),
              request.serializable || backend.readsLocally else { return nil }
        return try serveRangeBytes(range, request, nil, headroom: GRPCUnaryReply.headroom)
    }

    /// The read itself, synchronous and out of line: inlined into `range` its
    /// temporaries (the response, the slow-request text) grew that async
    /// function's frame, which the task allocator mallocs per call.
    @inline(never)
    func serveRange(_ range: MVCC.RangeRequest, _ request: Etcdserverpb.RangeRequest,
                    _ identity: RequestIdentity?) throws -> Etcdserverpb.RangeResponse {
        let clock = ContinuousClock()
        let began = clock.now
        let response = try backend.range(range)
        try access.confirm(identity)
        noteSlowRange(took: clock.now - began, request, count: response.kvs.count,
                      size: response.kvs.reduce(0) { $0 + $1.key.count + $1.value.count })
        return KVMapping.rangeResponse(response, header: backend.header(revision: response.revision))
    }

    /// `serveRange`'s answer encoded after `headroom` zero bytes; written straight from the store's
    /// records when the backend can (`MVCCStore.rangeEncoded`: no sort, no
    /// revision filters), the same bytes.
    @inline(never)
    func serveRangeBytes(_ range: MVCC.RangeRequest, _ request: Etcdserverpb.RangeRequest,
                         _ identity: RequestIdentity?, headroom: Int) throws -> [UInt8] {
        let clock = ContinuousClock()
        let began = clock.now
        guard let encoded = try backend.rangeEncoded(range, headroom: headroom,
                                                     header: { backend.header(revision: $0).serializedBytes() })
        else { return try serveRange(range, request, identity).serializedBytes(headroom: headroom) }
        try access.confirm(identity)
        noteSlowRange(took: clock.now - began, request, count: encoded.kvCount, size: encoded.kvBytes)
        return encoded.bytes
    }

    private func noteSlowRange(took: Duration, _ request: Etcdserverpb.RangeRequest, count: Int, size: Int) {
        backend.slow.apply(took: took, prefix: "read-only range ", request: RequestText.range(request),
                           response: "range_response_count:\(count) size:\(size)")
    }

    /// A read-only txn's reads, out of line as `serveRange`.
    @inline(never)
    func serveReadOnlyTxn(_ txn: MVCC.TxnRequest, _ identity: RequestIdentity?) throws -> Etcdserverpb.TxnResponse {
        let (response, header) = try serveReadOnlyTxnResult(txn, identity)
        return KVMapping.txnResponse(response, header: header)
    }

    /// `serveReadOnlyTxn`'s answer before it becomes a message (the callback
    /// form encodes it straight to bytes, `KVResponseBytes`).
    @inline(never)
    func serveReadOnlyTxnResult(_ txn: MVCC.TxnRequest,
                                _ identity: RequestIdentity?) throws -> (MVCC.TxnResponse, Etcdserverpb.ResponseHeader) {
        let clock = ContinuousClock()
        let began = clock.now
        let response = try backend.readOnlyTxn(txn)
        try access.confirm(identity)
        backend.slow.apply(took: clock.now - began, prefix: "read-only txn ", request: RequestText.describe(.txn(txn)))
        return (response, backend.header(revision: response.revision))
    }

    func put(_ request: Etcdserverpb.PutRequest, _ context: GRPCRequestContext) async throws -> Etcdserverpb.PutResponse {
        try Validation.check(KVMapping.put(request))
        let identity = try await access.check(.write(key: request.key, rangeEnd: [], alsoReads: request.prevKv), context)
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.put = request
        let (response, header) = try await backend.proposeWrite(proposal, as: identity)
        guard case .put(let put) = response else { throw ServerError.unexpectedResult }
        return KVMapping.putResponse(put, header: header)
    }

    func deleteRange(_ request: Etcdserverpb.DeleteRangeRequest,
                     _ context: GRPCRequestContext) async throws -> Etcdserverpb.DeleteRangeResponse {
        try Validation.check(KVMapping.deleteRange(request))
        let identity = try await access.check(.write(key: request.key, rangeEnd: request.rangeEnd, alsoReads: request.prevKv),
                                              context)
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.deleteRange = request
        let (response, header) = try await backend.proposeWrite(proposal, as: identity)
        guard case .deleteRange(let deleted) = response else { throw ServerError.unexpectedResult }
        return KVMapping.deleteRangeResponse(deleted, header: header)
    }

    func txn(_ request: Etcdserverpb.TxnRequest, _ context: GRPCRequestContext) async throws -> Etcdserverpb.TxnResponse {
        let txn = KVMapping.txn(request)
        try Validation.check(txn, maxTxnOps: backend.maxTxnOps, maxDepth: ProtoLimits.maxTxnDepth)
        let identity = try await access.check(.txn(request), context)
        if txn.isServedWithoutRaft {
            // etcd serves txns of ranges alone without Raft; linearizable
            // unless every range in them asked for serializable.
            if !Self.isSerializable(request) { try await backend.linearizableBarrier() }
            return try serveReadOnlyTxn(txn, identity)
        }
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.txn = request
        let (response, header) = try await backend.proposeWrite(proposal, as: identity)
        guard case .txn(let result) = response else { throw ServerError.unexpectedResult }
        return KVMapping.txnResponse(result, header: header)
    }

    func compact(_ request: Etcdserverpb.CompactionRequest,
                 _ context: GRPCRequestContext) async throws -> Etcdserverpb.CompactionResponse {
        let identity = try await access.check(.admin, context)
        var proposal = Swiftetcd.InternalRaftRequest()
        proposal.compaction = request
        let (response, header) = try await backend.proposeWrite(proposal, as: identity)
        guard case .compact = response else { throw ServerError.unexpectedResult }
        if request.physical { await backend.waitForCompaction(request.revision) }
        var out = Etcdserverpb.CompactionResponse()
        out.header = header
        return out
    }

    /// etcd's `isTxnSerializable`: every op of both branches is a Range
    /// asking for serializable (only asked of a txn served without Raft).
    static func isSerializable(_ txn: Etcdserverpb.TxnRequest) -> Bool {
        func isSerializableRange(_ op: Etcdserverpb.RequestOp) -> Bool {
            if case .requestRange(let r)? = op.request { r.serializable } else { false }
        }
        return txn.success.allSatisfy(isSerializableRange) && txn.failure.allSatisfy(isSerializableRange)
    }
}
