import Proto
import Testing
@testable import Server

/// `ProposalBytes`: a KV write's entry built around the client's bytes is,
/// for a canonical encoding, byte for byte what encoding the decoded request
/// gives, and for any encoding decodes to the same request.
@Suite struct ProposalBytesTests {
    static func canonical(_ id: UInt64, _ build: (inout Swiftetcd.InternalRaftRequest) -> Void) -> [UInt8] {
        var r = Swiftetcd.InternalRaftRequest()
        build(&r)
        r.id = id
        var h = Swiftetcd.RequestHeader()
        h.id = id
        r.header = h
        return r.serializedBytes()
    }

    static var txn: Etcdserverpb.TxnRequest {
        var c = Etcdserverpb.Compare()
        c.key = Array("/registry/pods/a".utf8)
        c.target = .mod
        c.targetUnion = .modRevision(0)
        var p = Etcdserverpb.PutRequest()
        p.key = c.key
        p.value = Array(repeating: 0x78, count: 300)
        var op = Etcdserverpb.RequestOp()
        op.request = .requestPut(p)
        var t = Etcdserverpb.TxnRequest()
        t.compare = [c]
        t.success = [op]
        return t
    }

    @Test(arguments: [UInt64(1), 127, 128, 0x1234_5678_9abc, UInt64.max])
    func canonicalRequestsGiveTheEncodedEntry(id: UInt64) throws {
        var put = Etcdserverpb.PutRequest()
        put.key = [1, 2]
        put.value = Array(repeating: 7, count: 200)
        put.lease = 9
        var del = Etcdserverpb.DeleteRangeRequest()
        del.key = [3]
        del.rangeEnd = [4]
        let cases: [(ProposalBytes.Field, [UInt8], [UInt8])] = [
            (.put, put.serializedBytes(), Self.canonical(id) { $0.put = put }),
            (.deleteRange, del.serializedBytes(), Self.canonical(id) { $0.deleteRange = del }),
            (.txn, Self.txn.serializedBytes(), Self.canonical(id) { $0.txn = Self.txn }),
        ]
        for (field, request, expected) in cases {
            let entry = try #require(ProposalBytes(field: field, request: request).entry(id: id, maxRequestBytes: 1 << 20))
            #expect(entry == expected)
            #expect(ProposalMemo.leadingID(entry) == id)
        }
    }

    /// Bytes the client encoded otherwise (an unknown field, a field sent
    /// twice) still decode to the request it sent.
    @Test func otherEncodingsDecodeToTheSameRequest() throws {
        var put = Etcdserverpb.PutRequest()
        put.key = [1]
        put.value = [2]
        // value sent twice (the last one counts), then unknown field 99 (varint 5).
        let sent = [0x0a, 0x01, 0x01, 0x12, 0x01, 0x09, 0x12, 0x01, 0x02, 0x98, 0x06, 0x05] as [UInt8]
        #expect(try Etcdserverpb.PutRequest(serializedBytes: sent) == put)
        let entry = try #require(ProposalBytes(field: .put, request: sent).entry(id: 42, maxRequestBytes: 1 << 20))
        let decoded = try Swiftetcd.InternalRaftRequest(serializedBytes: entry)
        #expect(decoded == (try Swiftetcd.InternalRaftRequest(serializedBytes: Self.canonical(42) { $0.put = put })))
    }

    /// Beyond half the limit the entry is encoded (and measured) as etcd's.
    @Test func largeRequestsAreLeftToTheEncoder() {
        let request = Self.txn.serializedBytes()
        let wire = ProposalBytes(field: .txn, request: request)
        #expect(wire.entry(id: 1, maxRequestBytes: 2 * request.count) == nil)
        #expect(wire.entry(id: 1, maxRequestBytes: 2 * (request.count + 20)) != nil)
    }
}
