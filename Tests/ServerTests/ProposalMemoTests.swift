import Auth
import Foundation
import Logging
import MVCC
import Proto
import Raft
import Testing
@testable import Server

/// `ProposalMemo`: an entry whose bytes are exactly a remembered proposal's
/// is applied from the proposer's decoded copy; anything else is decoded;
/// and the copy is what decoding would give, for the requests the KV
/// service proposes.
@Suite struct ProposalMemoTests {
    final class Member {
        let f: WatchFixture
        let memo = ProposalMemo()
        var pipeline: ApplyPipeline!
        var answers: [UInt64: Result<WriteResponse, ServerError>] = [:]

        init() throws {
            f = try WatchFixture()
            let alarms = AlarmStore(path: f.dir + "/alarms")
            let backend = ApplyBackend(store: f.store, lessor: Lessor(minTTLSeconds: 2, clock: ManualClock()), hub: f.hub,
                                       alarms: alarms, logger: Logger(label: "test"))
            let chain = ApplyChain(corruption: CorruptionGuard(alarms: alarms), capped: CappedGuard(alarms: alarms),
                                   auth: AuthApplyStage(auth: AuthStore(tokens: .simple(SimpleTokens(ttlSeconds: 300)),
                                                                        bcryptCost: PasswordHasher.defaultCost),
                                                        lessor: Lessor(minTTLSeconds: 2, clock: ManualClock())))
            pipeline = ApplyPipeline(chain: chain, backend: backend, logger: Logger(label: "test"), memo: memo) {
                [unowned self] id, r in answers[id] = r.response
            }
        }

        func value(_ key: String) throws -> [UInt8]? { try f.store.get(Array(key.utf8))?.value }
    }

    static func put(_ id: UInt64, _ key: String, _ value: String) -> Swiftetcd.InternalRaftRequest {
        var r = Swiftetcd.InternalRaftRequest()
        r.id = id
        var h = Swiftetcd.RequestHeader()
        h.id = id
        r.header = h
        var p = Etcdserverpb.PutRequest()
        p.key = Array(key.utf8)
        p.value = Array(value.utf8)
        r.put = p
        return r
    }

    /// The memo's copy is used: remembered under the entry's exact bytes, a
    /// (deliberately different) message is what gets applied.
    @Test func anEntryWithTheProposedBytesIsAppliedFromTheMemo() throws {
        let m = try Member()
        let data = Self.put(7, "k", "decoded").serializedBytes()
        m.memo.remember(id: 7, data: data, message: Self.put(7, "k", "remembered"))
        m.pipeline.apply([Entry(term: 1, index: 1, data: data)], term: 1)
        #expect(try m.value("k") == Array("remembered".utf8))
        #expect(m.memo.count == 0)
        if case .success(.put)? = m.answers[7] {} else { Issue.record("proposer not answered") }
    }

    /// Other bytes under a remembered ID (another member's entry, or a
    /// different request) are decoded; the memo's copy is dropped.
    @Test func otherBytesUnderTheSameIDAreDecoded() throws {
        let m = try Member()
        m.memo.remember(id: 7, data: Self.put(7, "k", "proposed").serializedBytes(), message: Self.put(7, "k", "remembered"))
        m.pipeline.apply([Entry(term: 1, index: 1, data: Self.put(7, "k", "other").serializedBytes())], term: 1)
        #expect(try m.value("k") == Array("other".utf8))
        #expect(m.memo.count == 0)
    }

    /// The sole voter's early apply (`prepare`) takes from the memo too.
    @Test func preparedEntriesUseTheMemo() throws {
        let m = try Member()
        let data = Self.put(9, "p", "decoded").serializedBytes()
        m.memo.remember(id: 9, data: data, message: Self.put(9, "p", "remembered"))
        let prepared = try #require(m.pipeline.prepare([Entry(term: 1, index: 1, data: data)], term: 1))
        prepared.finish()
        #expect(try m.value("p") == Array("remembered".utf8))
    }

    @Test func forgetAndCapacityBoundIt() {
        let memo = ProposalMemo()
        memo.remember(id: 1, data: Self.put(1, "a", "v").serializedBytes(), message: Self.put(1, "a", "v"))
        memo.forget(id: 1)
        #expect(memo.count == 0)
        for id in 1...UInt64(ProposalMemo.capacity) {
            memo.remember(id: id, data: [0x08, UInt8(id & 0x7f)], message: Swiftetcd.InternalRaftRequest())
        }
        #expect(memo.count == ProposalMemo.capacity)
        memo.remember(id: 99_999, data: [0x08, 1], message: Swiftetcd.InternalRaftRequest())
        #expect(memo.count == 1)
    }

    @Test func leadingIDReadsFieldOne() {
        #expect(ProposalMemo.leadingID(Self.put(300, "a", "v").serializedBytes()) == 300)
        #expect(ProposalMemo.leadingID(Self.put(UInt64.max, "a", "v").serializedBytes()) == UInt64.max)
        #expect(ProposalMemo.leadingID([0x12, 0x00]) == nil)  // no ID first
        #expect(ProposalMemo.leadingID([0x08, 0x80]) == nil)  // cut short
        #expect(ProposalMemo.leadingID([]) == nil)
    }

    /// What the memo relies on: a decoded request, encoded and decoded again,
    /// is the same value — for the writes the KV service proposes, with
    /// zero-valued oneof compares (Kubernetes' create), unknown enum values
    /// and nested txns.
    @Test func decodedRequestsSurviveAnEncodeDecodeRoundTrip() throws {
        var compare = Etcdserverpb.Compare()
        compare.key = Array("/registry/pods/a".utf8)
        compare.target = .mod
        compare.targetUnion = .modRevision(0)
        var odd = Etcdserverpb.Compare()
        odd.key = [0xff, 0]
        odd.result = .UNRECOGNIZED(9)
        odd.target = .UNRECOGNIZED(-3)
        odd.targetUnion = .value([])
        var put = Etcdserverpb.PutRequest()
        put.key = compare.key
        put.value = Array(repeating: 0x78, count: 1024)
        put.lease = 5
        put.prevKv = true
        var get = Etcdserverpb.RangeRequest()
        get.key = compare.key
        get.sortOrder = .UNRECOGNIZED(7)
        var inner = Etcdserverpb.TxnRequest()
        inner.compare = [odd]
        inner.success = [Self.op(.requestDeleteRange(Etcdserverpb.DeleteRangeRequest())), Self.op(nil)]
        var txn = Etcdserverpb.TxnRequest()
        txn.compare = [compare, odd]
        txn.success = [Self.op(.requestPut(put)), Self.op(.requestTxn(inner))]
        txn.failure = [Self.op(.requestRange(get))]
        var requests: [Swiftetcd.InternalRaftRequest] = []
        var r = Self.put(1, "k", "v")
        requests.append(r)
        r.put = nil
        r.txn = txn
        requests.append(r)
        r.txn = nil
        var del = Etcdserverpb.DeleteRangeRequest()
        del.key = [0]
        del.rangeEnd = [0]
        r.deleteRange = del
        requests.append(r)
        for request in requests {
            // What the service holds is itself a decoded request.
            let decoded = try Swiftetcd.InternalRaftRequest(serializedBytes: request.serializedBytes())
            #expect(try Swiftetcd.InternalRaftRequest(serializedBytes: decoded.serializedBytes()) == decoded)
        }
    }

    static func op(_ request: Etcdserverpb.RequestOp.OneOf_Request?) -> Etcdserverpb.RequestOp {
        var op = Etcdserverpb.RequestOp()
        op.request = request
        return op
    }
}
