import MVCC
import Proto
import Testing
@testable import Server

/// `KVResponseBytes` must write, byte for byte, what encoding `KVMapping`'s
/// messages through protobuf-c writes (the path it replaces), for every
/// response shape: empty and large fields, zero and negative numbers, every
/// op kind inside a txn, nested txns, and any headroom.
@Suite struct KVResponseBytesTests {
    static func header(_ rev: Int64, cluster: UInt64 = 0xdead_beef_1234, member: UInt64 = 42,
                       term: UInt64 = 7) -> Etcdserverpb.ResponseHeader {
        var h = Etcdserverpb.ResponseHeader()
        h.clusterID = cluster
        h.memberID = member
        h.revision = rev
        h.raftTerm = term
        return h
    }

    static let headers: [Etcdserverpb.ResponseHeader] = [
        header(9), header(0, cluster: 0, member: 0, term: 0), header(1 << 40, cluster: .max, member: 1, term: 1 << 35),
        header(-1, cluster: 0, member: .max, term: 0),
    ]

    static func kv(_ key: String, value: Int = 3, create: Int64 = 2, mod: Int64 = 5, version: Int64 = 2,
                   lease: Int64 = 0) -> KeyValue {
        KeyValue(key: Array(key.utf8), createRevision: create, modRevision: mod, version: version,
                 value: [UInt8](repeating: 0x61, count: value), lease: lease)
    }

    static let kvs: [KeyValue] = [
        kv("a"), kv("", value: 0, create: 0, mod: 0, version: 0), kv("big", value: 300, lease: 0x7fff_ffff_ffff),
        kv("neg", create: -1, mod: -5, version: -2, lease: -9), kv(String(repeating: "k", count: 200), value: 20_000),
        kv("keysonly", value: 0),
    ]

    static let ranges: [RangeResponse] = [
        RangeResponse(revision: 7), RangeResponse(revision: 0, kvs: [kvs[0]], more: true, count: 1),
        RangeResponse(revision: 12, kvs: kvs, more: false, count: 300), RangeResponse(revision: 3, count: 5),
        RangeResponse(revision: 3, kvs: [], more: true, count: -1),
    ]

    static let puts: [PutResponse] = [
        PutResponse(revision: 8), PutResponse(revision: 0), PutResponse(revision: 9, prevKV: kvs[2]),
        PutResponse(revision: 9, prevKV: kvs[1]),
    ]

    static let deletes: [DeleteRangeResponse] = [
        DeleteRangeResponse(revision: 4), DeleteRangeResponse(revision: 4, deleted: 2),
        DeleteRangeResponse(revision: 5, deleted: 6, prevKVs: kvs), DeleteRangeResponse(revision: 5, deleted: -3),
    ]

    static var txns: [TxnResponse] {
        let flat: [ResponseOp] = ranges.map { .range($0) } + puts.map { .put($0) } + deletes.map { .deleteRange($0) }
        let nested = TxnResponse(revision: 0, succeeded: true, responses: [.put(puts[0]), .range(ranges[1])])
        let deeper = TxnResponse(revision: 0, succeeded: false, responses: [.txn(nested), .txn(TxnResponse(revision: 0, succeeded: false))])
        return [
            TxnResponse(revision: 10, succeeded: false), TxnResponse(revision: 10, succeeded: true),
            TxnResponse(revision: 11, succeeded: true, responses: [.put(PutResponse(revision: 11))]),
            TxnResponse(revision: 11, succeeded: false, responses: [.range(ranges[2])]),
            TxnResponse(revision: 20, succeeded: true, responses: flat),
            TxnResponse(revision: 21, succeeded: true, responses: [.txn(nested), .deleteRange(deletes[2]), .txn(deeper)]),
        ]
    }

    @Test(arguments: [0, 5, 17])
    func putBytesEqualTheMessagesEncoding(headroom: Int) {
        for h in Self.headers {
            for r in Self.puts {
                #expect(KVResponseBytes.put(r, header: h, headroom: headroom)
                        == KVMapping.putResponse(r, header: h).serializedBytes(headroom: headroom), "\(r) \(h)")
            }
        }
    }

    @Test(arguments: [0, 5, 17])
    func deleteRangeBytesEqualTheMessagesEncoding(headroom: Int) {
        for h in Self.headers {
            for r in Self.deletes {
                #expect(KVResponseBytes.deleteRange(r, header: h, headroom: headroom)
                        == KVMapping.deleteRangeResponse(r, header: h).serializedBytes(headroom: headroom), "\(r) \(h)")
            }
        }
    }

    @Test(arguments: [0, 5, 17])
    func txnBytesEqualTheMessagesEncoding(headroom: Int) throws {
        for h in Self.headers {
            for (i, r) in Self.txns.enumerated() {
                let got = KVResponseBytes.txn(r, header: h, headroom: headroom)
                #expect(got == KVMapping.txnResponse(r, header: h).serializedBytes(headroom: headroom), "txn \(i) \(h)")
                // And it decodes to the message that path builds.
                let decoded = try got[headroom...].withUnsafeBytes { try Etcdserverpb.TxnResponse(serializedBytes: $0) }
                #expect(decoded == KVMapping.txnResponse(r, header: h), "txn \(i)")
            }
        }
    }

    @Test func headroomIsZeroBytes() {
        let bytes = KVResponseBytes.txn(Self.txns[2], header: Self.headers[0], headroom: 5)
        #expect(bytes.prefix(5).allSatisfy { $0 == 0 })
    }
}
