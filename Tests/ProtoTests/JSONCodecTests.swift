import Testing
import Proto

/// The JSON mapping of etcd's gRPC gateway (jsonpb, OrigName, no defaults),
/// checked against what etcd 3.5.1 prints for the same messages.
@Suite struct JSONCodecTests {
    typealias E = Etcdserverpb

    @Test func scalarsOfEveryKind() {
        var w = JSONWriter()
        w.beginObject()
        w.field("i32", Int32(-5))
        w.field("u32", UInt32(3004146010))
        w.field("i64", Int64.min)
        w.field("u64", UInt64.max)
        w.field("t", true)
        w.field("f", false)
        w.field("d", 1.5)
        w.field("whole", 2.0)
        w.field("fl", Float(0.25))
        w.field("s", "a\"b\\c\n<&>")
        w.field("b", [0xFF, 0x00, 0x61] as [UInt8])
        w.field("empty", "")
        w.field("zero", Int64(0))
        w.endObject()
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(text == #"{"i32":-5,"u32":3004146010,"i64":"-9223372036854775808","u64":"18446744073709551615","t":true,"d":1.5,"whole":2,"fl":0.25,"s":"a\"b\\c\n\u003c\u0026\u003e","b":"/wBh"}"#)
    }

    @Test func putResponseAsEtcdPrintsIt() {
        var r = E.PutResponse()
        r.header = E.ResponseHeader()
        r.header!.clusterID = 15118495548433857066
        r.header!.memberID = 13668033151171901709
        r.header!.revision = 3
        r.header!.raftTerm = 2
        var kv = Mvccpb.KeyValue()
        kv.key = Array("foo".utf8)
        kv.value = Array("bar".utf8)
        kv.createRevision = 2
        kv.modRevision = 2
        kv.version = 1
        r.prevKv = kv
        #expect(r.jsonString() == #"{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"3","raft_term":"2"},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}"#)
    }

    @Test func camelCaseProtoNamesStayAsDeclared() throws {
        var m = E.Member()
        m.id = 7
        m.name = "default"
        m.peerURLs = ["http://a:1", "http://b:2"]
        m.isLearner = true
        #expect(m.jsonString() == #"{"ID":"7","name":"default","peerURLs":["http://a:1","http://b:2"],"isLearner":true}"#)
        #expect(try E.Member(jsonBytes: Array(m.jsonString().utf8)) == m)
    }

    @Test func enumsByNameOmittedAtZeroAndReadByNameOrNumber() throws {
        var r = E.RangeRequest()
        r.key = [0]
        r.sortOrder = .descend
        r.sortTarget = .key
        #expect(r.jsonString() == #"{"key":"AA==","sort_order":"DESCEND"}"#)
        let byName = try E.RangeRequest(jsonBytes: Array(#"{"key":"AA==","sort_order":"ASCEND","sort_target":"MOD"}"#.utf8))
        #expect(byName.sortOrder == .ascend && byName.sortTarget == .mod)
        let byNumber = try E.RangeRequest(jsonBytes: Array(#"{"sort_order":2,"sort_target":7}"#.utf8))
        #expect(byNumber.sortOrder == .descend && byNumber.sortTarget == .UNRECOGNIZED(7))
        #expect(byNumber.jsonString() == #"{"sort_order":"DESCEND","sort_target":7}"#)
        // A DELETE event shows its type; PUT (0) does not.
        var event = Mvccpb.Event()
        event.type = .delete
        #expect(event.jsonString() == #"{"type":"DELETE"}"#)
        #expect(throws: ProtoJSONError(#"unknown value "\"BOGUS\"" for enum etcdserverpb.RangeRequest.SortOrder"#)) {
            try E.RangeRequest(jsonBytes: Array(#"{"sort_order":"BOGUS"}"#.utf8))
        }
    }

    @Test func repeatedEnums() throws {
        let c = try E.WatchCreateRequest(jsonBytes: Array(#"{"filters":["NOPUT",1]}"#.utf8))
        #expect(c.filters == [.noput, .nodelete])
        #expect(c.jsonString() == #"{"filters":["NOPUT","NODELETE"]}"#)
    }

    @Test func int64AcceptsStringsAndNumbersBeyondDoublePrecision() throws {
        let r = try E.RangeRequest(jsonBytes: Array(#"{"limit":"9007199254740993","revision":9007199254740995}"#.utf8))
        #expect(r.limit == 9007199254740993 && r.revision == 9007199254740995)
        let lease = try E.LeaseRevokeRequest(jsonBytes: Array(#"{"ID":"-1"}"#.utf8))
        #expect(lease.id == -1)
        #expect(throws: ProtoJSONError("json: cannot unmarshal number 1.5 into Go value of type int64")) {
            try E.RangeRequest(jsonBytes: Array(#"{"limit":1.5}"#.utf8))
        }
        #expect(throws: ProtoJSONError("json: cannot unmarshal number 99999999999999999999 into Go value of type int64")) {
            try E.RangeRequest(jsonBytes: Array(#"{"limit":"99999999999999999999"}"#.utf8))
        }
        #expect(throws: ProtoJSONError("invalid character 'a' looking for beginning of value")) {
            try E.RangeRequest(jsonBytes: Array(#"{"limit":"abc"}"#.utf8))
        }
        #expect(throws: ProtoJSONError("json: cannot unmarshal string into Go value of type bool")) {
            try E.RangeRequest(jsonBytes: Array(#"{"keys_only":"true"}"#.utf8))
        }
    }

    /// Many values encoded into one buffer (a JSON response's keys and
    /// values) come out as each encoded alone, one after the other.
    @Test func base64IntoOneBufferMatchesOneByOne() throws {
        var together: [UInt8] = []
        var separate: [UInt8] = []
        for n in 0..<500 {
            let value = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) }
            Base64.encode(value, into: &together)
            var one: [UInt8] = []
            Base64.encode(value, into: &one)
            #expect(try Base64.decode(String(decoding: one, as: UTF8.self)) == value)
            separate.append(contentsOf: one)
        }
        #expect(together == separate)
    }

    @Test func bytesAreStrictBase64() throws {
        #expect(try Base64.decode("Zm9v") == Array("foo".utf8))
        #expect(try Base64.decode("Zm8=") == Array("fo".utf8))
        #expect(try Base64.decode("Zg==") == Array("f".utf8))
        // The URL alphabet is refused (etcd 3.5.1's gateway: 400, "illegal base64 data at input byte 1").
        #expect(throws: ProtoJSONError("illegal base64 data at input byte 1")) { try Base64.decode("a-_=") }
        #expect(throws: ProtoJSONError("illegal base64 data at input byte 0")) { try Base64.decode("-_8=") }
        #expect(try Base64.decode("+/8=") == [0xFB, 0xFF])
        #expect(try Base64.decode("") == [])
        #expect(throws: ProtoJSONError("illegal base64 data at input byte 0")) { try Base64.decode("!!") }
        #expect(throws: ProtoJSONError("illegal base64 data at input byte 0")) { try Base64.decode("YQ") }
        #expect(throws: ProtoJSONError("illegal base64 data at input byte 4")) { try Base64.decode("Zm9vY") }
        #expect(throws: ProtoJSONError("illegal base64 data at input byte 4")) { try Base64.decode("Zg==Zg==") }
        for n in 0..<20 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(try Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test func oneofsNestedTxnRoundTrip() throws {
        let text = #"{"compare":[{"result":"GREATER","target":"MOD","key":"Zm9v","mod_revision":"3"}],"success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"request_txn":{"failure":[{"request_delete_range":{"key":"Yw=="}}]}}],"failure":[{"request_range":{}}]}"#
        let txn = try E.TxnRequest(jsonBytes: Array(text.utf8))
        #expect(txn.compare.first?.targetUnion == .modRevision(3))
        guard case .requestTxn(let inner)? = txn.success.last?.request else {
            Issue.record("nested txn missing")
            return
        }
        #expect(inner.failure.first?.request == .requestDeleteRange({ var d = E.DeleteRangeRequest(); d.key = Array("c".utf8); return d }()))
        // A oneof member is written even at its zero value (the empty range request).
        #expect(txn.jsonString() == text)
        #expect(try E.TxnRequest(serializedBytes: txn.serializedBytes()) == txn)
    }

    @Test func lowerCamelNamesNullsAndUnknownFieldsOnInput() throws {
        let r = try E.PutRequest(jsonBytes: Array(#"{"key":"YQ==","prevKv":true,"ignore_lease":null,"bogus":{"x":[1,2]},"lease":"5"}"#.utf8))
        #expect(r.key == Array("a".utf8) && r.prevKv && r.lease == 5 && !r.ignoreLease)
    }

    @Test func emptyBodyIsEmptyMessageAndTrailingTextIsNotRead() throws {
        #expect(try E.RangeRequest(jsonBytes: [UInt8]()) == E.RangeRequest())
        #expect(try E.RangeRequest(jsonBytes: Array(" \n".utf8)) == E.RangeRequest())
        #expect(try E.RangeRequest(jsonBytes: Array(#"{"key":"YQ=="} x"#.utf8)).key == Array("a".utf8))
        #expect(try E.StatusRequest(jsonBytes: Array("null".utf8)) == E.StatusRequest())
    }

    @Test func malformedInputIsAnErrorNotACrash() {
        let cases: [(String, String)] = [
            ("{bad", "invalid character 'b' looking for beginning of object key string"),
            ("{\"key\"", "unexpected end of JSON input"),
            ("{\"key\":}", "invalid character '}' looking for beginning of value"),
            ("[1]", "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"),
            ("{\"key\":\"YQ==\",}", "invalid character '}' looking for beginning of object key string"),
            ("{\"key\":tru}", "invalid character '}' in literal true (expecting 'e')"),
            ("{\"key\":\"\\x\"}", "invalid character 'x' in string escape code"),
            ("{\"limit\":01}", "invalid character '1' after object key:value pair"),
            ("{\"key\":123}", "json: cannot unmarshal number into Go value of type []uint8"),
        ]
        for (input, message) in cases {
            #expect(throws: ProtoJSONError(message), "\(input)") { try E.RangeRequest(jsonBytes: Array(input.utf8)) }
        }
        // Deep nesting is refused, not a stack overflow.
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: ProtoJSONError.self) { try JSONValue.parse(deep) }
        // Arbitrary bytes never crash.
        var seed: UInt64 = 42
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(seed % 40) {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(Array(#"{}[]":,"0123-e.tfnul\ YQ=="#.utf8)[Int(seed >> 33) % 22])
            }
            _ = try? E.TxnRequest(jsonBytes: bytes)
        }
    }

    @Test func stringsWithEscapesAndUnicode() throws {
        let value = try JSONValue.parse(#"["\u00e9\ud83d\ude00\/\t", "é😀"]"#)
        #expect(value == .array([.string("é😀/\t"), .string("é😀")]))
        var m = E.Member()
        m.name = "é😀\u{1}\u{2028}"
        #expect(m.jsonString() == #"{"name":"é😀\u0001\u2028"}"#)
    }

    @Test func sequenceOfValuesForStreamingBodies() throws {
        let values = try JSONValue.parseSequence(Array(#"{"ID":1}{"ID":"2"} {"ID":3}"#.utf8))
        let ids = try values.map { try E.LeaseKeepAliveRequest(json: $0).id }
        #expect(ids == [1, 2, 3])
    }

    @Test func everyMessageRoundTripsThroughJSON() throws {
        #expect(try E.TxnResponse(jsonBytes: Samples.txnResponse.jsonBytes()) == Samples.txnResponse)
        #expect(try E.WatchResponse(jsonBytes: Samples.watchResponse.jsonBytes()) == Samples.watchResponse)
        #expect(try E.StatusResponse(jsonBytes: Samples.statusResponse.jsonBytes()) == Samples.statusResponse)
        #expect(try E.MemberListResponse(jsonBytes: Samples.memberListResponse.jsonBytes()) == Samples.memberListResponse)
        #expect(try Authpb.Role(jsonBytes: Samples.role.jsonBytes()) == Samples.role)
        for type in ProtoMessageTypes.all {
            guard let json = type as? any ProtoJSONMessage.Type else {
                Issue.record("\(type) has no JSON mapping")
                continue
            }
            #expect(json.init().jsonBytes() == Array("{}".utf8))
        }
    }
}
