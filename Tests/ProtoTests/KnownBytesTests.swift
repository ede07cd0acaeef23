import Testing
import Proto

/// Encodings worked out by hand from the protobuf wire format (tag = field << 3 |
/// wire type; varints little-endian base 128; negative int64 as 10-byte varints;
/// proto3 leaves defaults out, packs repeated scalars, and writes a set oneof
/// member even when it is zero). These are the bytes etcd's Go code produces.
@Suite struct KnownBytesTests {
    func check<M: ProtoMessage>(_ message: M, _ expected: String) throws {
        #expect(hex(message.serializedBytes()) == expected)
        #expect(try M(serializedBytes: unhex(expected)) == message)
    }

    @Test func rangeRequest() throws {
        var request = Etcdserverpb.RangeRequest()
        request.key = Samples.bytes("foo")
        try check(request, "0a 03 66 6f 6f")
        request.key = Samples.bytes("a")
        request.rangeEnd = [0]
        request.limit = 10
        request.revision = -1
        request.sortOrder = .descend
        request.serializable = true
        try check(request, "0a 01 61 12 01 00 18 0a 20 ff ff ff ff ff ff ff ff ff 01 28 02 38 01")
    }

    /// A NUL inside a `string` field is kept, decoding and encoding, in plain and
    /// repeated fields (etcd keeps every byte; protobuf-c would cut at the NUL).
    @Test func stringsKeepEmbeddedNUL() throws {
        var add = Etcdserverpb.AuthUserAddRequest()
        add.name = "root\u{0}x"
        add.password = "\u{0}pw"
        try check(add, "0a 06 72 6f 6f 74 00 78 12 03 00 70 77")
        var member = Etcdserverpb.MemberAddRequest()
        member.peerURLs = ["a\u{0}", "\u{0}"]
        try check(member, "0a 02 61 00 0a 01 00")
    }

    @Test func putRequest() throws {
        var put = Etcdserverpb.PutRequest()
        put.key = Samples.bytes("foo")
        put.value = Samples.bytes("bar")
        put.lease = 7
        put.prevKv = true
        try check(put, "0a 03 66 6f 6f 12 03 62 61 72 18 07 20 01")
    }

    @Test func statusResponse() throws {
        var header = Etcdserverpb.ResponseHeader()
        header.clusterID = 1
        header.memberID = 2
        header.revision = 3
        header.raftTerm = 4
        var status = Etcdserverpb.StatusResponse()
        status.header = header
        status.version = "3.5.0"
        status.leader = 1
        status.raftIndex = 300
        try check(status, "0a 08 08 01 10 02 18 03 20 04 12 05 33 2e 35 2e 30 20 01 28 ac 02")
    }

    @Test func compareAndTxn() throws {
        var compare = Etcdserverpb.Compare()
        compare.key = Samples.bytes("a")
        compare.targetUnion = .version(0)
        try check(compare, "1a 01 61 20 00")
        var withRangeEnd = compare
        withRangeEnd.rangeEnd = Samples.bytes("b")
        try check(withRangeEnd, "1a 01 61 20 00 82 04 01 62")

        var put = Etcdserverpb.PutRequest()
        put.key = Samples.bytes("a")
        var txn = Etcdserverpb.TxnRequest()
        txn.compare = [compare]
        txn.success = [Samples.op(.requestPut(put))]
        try check(txn, "0a 05 1a 01 61 20 00 12 05 12 03 0a 01 61")
    }

    @Test func zeroOneofMembersArePresent() throws {
        // Kubernetes' create-if-absent: mod_revision == 0 must travel as "30 00".
        var compare = Etcdserverpb.Compare()
        compare.target = .mod
        compare.key = Samples.bytes("a")
        compare.targetUnion = .modRevision(0)
        try check(compare, "10 02 1a 01 61 30 00")
        // An empty value compared against: "3a 00", distinct from no value at all.
        compare.target = .value
        compare.targetUnion = .value([])
        try check(compare, "10 03 1a 01 61 3a 00")
        compare.targetUnion = nil
        try check(compare, "10 03 1a 01 61")
    }

    @Test func watchRequests() throws {
        var create = Etcdserverpb.WatchCreateRequest()
        create.key = Samples.bytes("a")
        create.filters = [.noput, .nodelete]
        create.watchID = 5
        var request = Etcdserverpb.WatchRequest()
        request.requestUnion = .createRequest(create)
        try check(request, "0a 09 0a 01 61 2a 02 00 01 38 05")

        var progress = Etcdserverpb.WatchRequest()
        progress.requestUnion = .progressRequest(Etcdserverpb.WatchProgressRequest())
        try check(progress, "1a 00")
    }

    @Test func eventAndMembers() throws {
        var kv = Mvccpb.KeyValue()
        kv.key = Samples.bytes("k")
        var event = Mvccpb.Event()
        event.type = .delete
        event.kv = kv
        try check(event, "08 01 12 03 0a 01 6b")

        var add = Etcdserverpb.MemberAddRequest()
        add.peerURLs = ["http://a"]
        try check(add, "0a 08 68 74 74 70 3a 2f 2f 61")
    }

    @Test func smallMessages() throws {
        var grant = Etcdserverpb.LeaseGrantRequest()
        grant.ttl = 60
        try check(grant, "08 3c")
        var health = GrpcHealthV1.HealthCheckResponse()
        health.status = .serving
        try check(health, "08 01")
        var state = Swiftetcd.ClusterState()
        state.removedMemberIDs = [1, 300]
        try check(state, "1a 03 01 ac 02")
    }

    @Test func acceptsUnpackedRepeatedAndUnknownFields() throws {
        // The same repeated field written unpacked, as proto2 writers do.
        let state = try Swiftetcd.ClusterState(serializedBytes: unhex("18 01 18 ac 02"))
        #expect(state.removedMemberIDs == [1, 300])
        // Field 99 (unknown) of each wire type is skipped.
        let request = try Etcdserverpb.RangeRequest(
            serializedBytes: unhex("98 06 05 9a 06 02 01 02 99 06 01 02 03 04 05 06 07 08 9d 06 01 02 03 04 0a 01 61"))
        #expect(request.key == Samples.bytes("a"))
        // A later occurrence of a scalar field wins.
        let put = try Etcdserverpb.PutRequest(serializedBytes: unhex("18 01 18 02"))
        #expect(put.lease == 2)
    }
}
