import Foundation
import GRPCWire
import MVCC
import Proto
import Testing
@testable import Server

/// The KV service against a fake backend (no member, no Raft): what it
/// proposes, when it asks for a linearizable barrier, that validation and
/// the access check come before anything reaches the backend, and that the
/// identity the access check returns is what the proposal carries.
@Suite struct KVServiceTests {
    final class FakeKV: KVBackend, @unchecked Sendable {
        private let lock = NSLock()
        private var _barriers = 0
        private var _proposals: [(Swiftetcd.InternalRaftRequest, RequestIdentity?)] = []
        var barriers: Int { lock.withLock { _barriers } }
        /// What `readsLocally` answers (the sole member's read gate).
        var gateOpen = false
        var readsLocally: Bool { lock.withLock { gateOpen } }
        var proposals: [(Swiftetcd.InternalRaftRequest, RequestIdentity?)] { lock.withLock { _proposals } }

        let maxTxnOps = 2
        var currentRevision: Int64 { 7 }
        func header(revision: Int64, term: UInt64?) -> Etcdserverpb.ResponseHeader {
            var h = Etcdserverpb.ResponseHeader()
            h.revision = revision
            h.raftTerm = term ?? 1
            return h
        }
        func linearizableBarrier() async throws { lock.withLock { _barriers += 1 } }
        func range(_ request: RangeRequest) throws -> RangeResponse {
            RangeResponse(revision: 7, kvs: [KeyValue(key: request.key, createRevision: 2, modRevision: 3, version: 1,
                                                      value: Array("v".utf8))], count: 1)
        }
        func readOnlyTxn(_ txn: TxnRequest) throws -> TxnResponse { TxnResponse(revision: 7, succeeded: true) }
        func waitForCompaction(_ revision: Int64) async {}
        func proposeWrite(_ request: Swiftetcd.InternalRaftRequest,
                          as identity: RequestIdentity?) async throws -> (WriteResponse, Etcdserverpb.ResponseHeader) {
            lock.withLock { _proposals.append((request, identity)) }
            return (.put(PutResponse(revision: 8)), header(revision: 8, term: 2))
        }
    }

    /// Lets everything through as "alice", refusing writes to "locked".
    struct FakeAccess: RequestAccess {
        static let denied = ServerError(code: .permissionDenied, message: "etcdserver: permission denied")
        func check(_ action: RequestAction, _ context: GRPCRequestContext) async throws -> RequestIdentity? {
            if case .write(let key, _, _) = action, key == Array("locked".utf8) { throw Self.denied }
            return RequestIdentity(username: "alice", authRevision: 4)
        }
    }

    let context = GRPCRequestContext(headers: [], path: "/etcdserverpb.KV/Put")

    @Test func putProposesWithTheCheckedIdentity() async throws {
        let fake = FakeKV()
        let kv = KVService(backend: fake, access: FakeAccess())
        var put = Etcdserverpb.PutRequest()
        put.key = Array("k".utf8)
        put.value = Array("v".utf8)
        let response = try await kv.put(put, context)
        #expect(response.header?.revision == 8)
        #expect(response.header?.raftTerm == 2)
        #expect(fake.proposals.count == 1)
        #expect(fake.proposals.first?.0.put?.key == Array("k".utf8))
        #expect(fake.proposals.first?.1 == RequestIdentity(username: "alice", authRevision: 4))
    }

    @Test func refusedOrInvalidRequestsNeverReachTheBackend() async throws {
        let fake = FakeKV()
        let kv = KVService(backend: fake, access: FakeAccess())
        var locked = Etcdserverpb.PutRequest()
        locked.key = Array("locked".utf8)
        await #expect(throws: FakeAccess.denied) { _ = try await kv.put(locked, context) }
        await #expect(throws: ServerError.emptyKey) { _ = try await kv.put(Etcdserverpb.PutRequest(), context) }
        var txn = Etcdserverpb.TxnRequest()
        var op = Etcdserverpb.RequestOp()
        op.request = .requestRange({ var r = Etcdserverpb.RangeRequest(); r.key = [1]; return r }())
        txn.success = [op, op, op]  // over the fake's max of 2
        await #expect(throws: ServerError.tooManyOps) { _ = try await kv.txn(txn, context) }
        #expect(fake.proposals.isEmpty)
    }

    /// A serializable Range of the one key FakeKV holds ("k" → "v" at revision 7).
    static let serializableRangeOfK: Etcdserverpb.RangeRequest = {
        var range = Etcdserverpb.RangeRequest()
        range.key = Array("k".utf8)
        range.serializable = true
        return range
    }()

    @Test func inlineRangeServesOnlyOneKeyReadsThatNeedNoWait() async throws {
        let fake = FakeKV()
        let kv = KVService(backend: fake, access: OpenAccess())
        var range = Self.serializableRangeOfK
        /// The inline answer, decoded past the frame header's room in front.
        func served(_ kv: KVService, _ range: Etcdserverpb.RangeRequest) throws -> Etcdserverpb.RangeResponse? {
            guard let bytes = try kv.rangeInline(range, context) else { return nil }
            #expect(bytes.prefix(GRPCUnaryReply.headroom).allSatisfy { $0 == 0 })
            return try Array(bytes.dropFirst(GRPCUnaryReply.headroom)).withUnsafeBytes {
                try Etcdserverpb.RangeResponse(serializedBytes: $0)
            }
        }
        let answer = try served(kv, range)
        #expect(answer?.kvs.first?.value == Array("v".utf8))
        #expect(answer?.header?.revision == 7)
        // Linearizable: only while the read gate is open.
        range.serializable = false
        #expect(try kv.rangeInline(range, context) == nil)
        fake.gateOpen = true
        #expect(try served(kv, range)?.kvs.count == 1)
        // A key range (its count may scan many keys) goes to the async handler.
        range.rangeEnd = Array("l".utf8)
        #expect(try kv.rangeInline(range, context) == nil)
        // Invalid requests fail as `range` fails them.
        var invalid = Etcdserverpb.RangeRequest()
        invalid.serializable = true
        await #expect(throws: ServerError.emptyKey) { _ = try await kv.range(invalid, context) }
        #expect(throws: ServerError.emptyKey) { _ = try kv.rangeInline(invalid, context) }
        // A permission check that may wait (auth) leaves the call to `range`.
        range.rangeEnd = []
        #expect(try KVService(backend: fake, access: FakeAccess()).rangeInline(range, context) == nil)
        #expect(fake.barriers == 0)
    }

    @Test func onlyLinearizableReadsWaitForTheBarrier() async throws {
        let fake = FakeKV()
        let kv = KVService(backend: fake, access: OpenAccess())
        var range = Self.serializableRangeOfK
        let r = try await kv.range(range, context)
        #expect(r.kvs.first?.value == Array("v".utf8))
        #expect(r.header?.revision == 7)
        #expect(fake.barriers == 0)
        range.serializable = false
        _ = try await kv.range(range, context)
        #expect(fake.barriers == 1)
        // A read-only txn is served locally too, after the barrier.
        var txn = Etcdserverpb.TxnRequest()
        var op = Etcdserverpb.RequestOp()
        op.request = .requestRange(range)
        txn.success = [op]
        _ = try await kv.txn(txn, context)
        #expect(fake.barriers == 2)
        #expect(fake.proposals.isEmpty)
    }
}
