import Testing
import Proto

@Suite struct MalformedInputTests {
    @Test func everyTruncationOfEverySampleIsHandled() {
        // A strict prefix is either rejected or decodes to some valid message
        // (a prefix can end exactly between fields); it must never crash.
        var rejected = 0
        for message in Samples.messages {
            let bytes = message.serializedBytes()
            for length in 0..<bytes.count {
                for type in [type(of: message), Etcdserverpb.TxnRequest.self] as [any ProtoMessage.Type] {
                    if (try? type.init(serializedBytes: bytes[..<length])) == nil { rejected += 1 }
                }
            }
        }
        #expect(rejected > 0)
    }

    @Test func truncatedInsideAField() {
        // key field announces 3 bytes, has 2
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.RangeRequest(serializedBytes: unhex("0a 03 66 6f")) }
        // varint cut off
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.RangeRequest(serializedBytes: unhex("18 ff")) }
        // tag cut off
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.RangeRequest(serializedBytes: unhex("82")) }
        // nested message longer than its parent
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.RangeResponse(serializedBytes: unhex("12 05 0a 01 61")) }
    }

    @Test func badWireData() {
        // field number 0
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.PutRequest(serializedBytes: unhex("00 01")) }
        // wire type 7 does not exist
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.PutRequest(serializedBytes: unhex("0f 01")) }
        // varint longer than 10 bytes
        #expect(throws: ProtoDecodeError.malformed) {
            try Etcdserverpb.PutRequest(serializedBytes: unhex("18 ff ff ff ff ff ff ff ff ff ff ff 01"))
        }
        // sub-message whose contents are garbage
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.PutResponse(serializedBytes: unhex("0a 02 ff ff")) }
        // length of 2^63
        #expect(throws: ProtoDecodeError.malformed) {
            try Etcdserverpb.PutRequest(serializedBytes: unhex("0a 80 80 80 80 80 80 80 80 80 01 61"))
        }
    }

    /// etcd's decoder refuses a known field sent with another wire type (protobuf-c
    /// alone reads a bool from any wire type); unknown fields stay skippable.
    @Test func knownFieldWithTheWrongWireTypeIsRejected() throws {
        // PutRequest.ignore_value (5, bool) as LEN, as fixed32; ignore_lease (6) as fixed64
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.PutRequest(serializedBytes: unhex("2a 01 01")) }
        #expect(throws: ProtoDecodeError.malformed) { try Etcdserverpb.PutRequest(serializedBytes: unhex("2d 01 00 00 00")) }
        #expect(throws: ProtoDecodeError.malformed) {
            try Etcdserverpb.PutRequest(serializedBytes: unhex("31 00 00 00 00 00 00 00 00"))
        }
        // the same inside a Txn: RequestOp.request_put { ignore_value as LEN }
        #expect(throws: ProtoDecodeError.malformed) {
            try Etcdserverpb.TxnRequest(serializedBytes: unhex("12 05 12 03 2a 01 01"))
        }
        // unknown field 99 with any wire type, and packed repeated enum filters, still decode
        let put = try Etcdserverpb.PutRequest(serializedBytes: unhex("0a 01 61 9d 06 00 00 00 00 9a 06 01 78"))
        #expect(put.key == [0x61])
        let watch = try Etcdserverpb.WatchCreateRequest(serializedBytes: unhex("0a 01 61 2a 02 00 01"))
        #expect(watch.filters.count == 2)
    }

    @Test func invalidUTF8InStringIsRejected() {
        #expect(throws: ProtoDecodeError.invalidUTF8) {
            try Etcdserverpb.AuthenticateRequest(serializedBytes: unhex("0a 02 c3 28"))
        }
        #expect(throws: ProtoDecodeError.invalidUTF8) {
            try Etcdserverpb.MemberAddRequest(serializedBytes: unhex("0a 01 61 0a 01 ff"))
        }
    }

    /// TxnRequest → RequestOp → TxnRequest … nested `levels` times.
    static func nestedTxn(levels: Int) -> [UInt8] {
        // Built back to front (each level wraps the previous), reversed at the end: O(n).
        var reversed: [UInt8] = []
        func wrap(_ tag: UInt8) {
            reversed += varint(UInt64(reversed.count)).reversed()
            reversed.append(tag)
        }
        for _ in 0..<levels {
            wrap(0x22)  // RequestOp.request_txn = 4
            wrap(0x12)  // TxnRequest.success = 2
        }
        return reversed.reversed()
    }

    @Test func deepNestingIsBounded() throws {
        // 2 message levels per nested txn, plus the outer message: the deepest
        // txn the server takes (etcd's default op budget) decodes on its own
        // and inside the Raft entry that wraps it.
        let deepest = ProtoLimits.maxTxnDepth
        #expect(deepest >= 128)
        let fine = try Etcdserverpb.TxnRequest(serializedBytes: Self.txnEndingInPut(depth: deepest))
        #expect(fine.success.count == 1)
        let wrapped = try Swiftetcd.InternalRaftRequest(serializedBytes: Self.entry(Self.txnEndingInPut(depth: deepest)))
        #expect(wrapped.txn?.success.count == 1)
        #expect(throws: ProtoDecodeError.nestingTooDeep) {
            try Etcdserverpb.TxnRequest(serializedBytes: Self.txnEndingInPut(depth: deepest + 1))
        }
        // Far beyond any stack: rejected by the pre-pass, not by a crash.
        #expect(throws: ProtoDecodeError.nestingTooDeep) {
            try Etcdserverpb.TxnRequest(serializedBytes: Self.nestedTxn(levels: 20_000))
        }
        // Inside a Raft entry too.
        #expect(throws: ProtoDecodeError.nestingTooDeep) {
            try Swiftetcd.InternalRaftRequest(serializedBytes: Self.entry(Self.txnEndingInPut(depth: deepest + 1)))
        }
    }

    /// `depth` TxnRequests, each the only op of the one around it; the
    /// innermost holds a Put of "k" (the shape issue 18's lost write had).
    static func txnEndingInPut(depth: Int) -> [UInt8] {
        let put: [UInt8] = [0x12, 0x03, 0x0A, 0x01, 0x6B]  // RequestOp.request_put{key: "k"}
        var txn = [0x12] + varint(UInt64(put.count)) + put  // TxnRequest.success
        for _ in 1..<depth {
            let op = [0x22] + varint(UInt64(txn.count)) + txn  // RequestOp.request_txn
            txn = [0x12] + varint(UInt64(op.count)) + op
        }
        return txn
    }

    /// An InternalRaftRequest whose txn field (6) holds `txn`.
    static func entry(_ txn: [UInt8]) -> [UInt8] { [0x32] + varint(UInt64(txn.count)) + txn }
}

func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    while value >= 0x80 {
        out.append(UInt8(value & 0x7f) | 0x80)
        value >>= 7
    }
    out.append(UInt8(value))
    return out
}
