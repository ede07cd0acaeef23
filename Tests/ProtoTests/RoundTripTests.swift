import Testing
import Proto

@Suite struct RoundTripTests {
    func roundTrip<M: ProtoMessage>(_ message: M) throws {
        let bytes = message.serializedBytes()
        let decoded = try M(serializedBytes: bytes)
        #expect(decoded == message)
        #expect(decoded.serializedBytes() == bytes)
        #expect(message.serializedSize == bytes.count)
    }

    @Test func etcdserverpb() throws {
        try roundTrip(Samples.header)
        try roundTrip(Samples.rangeRequest)
        try roundTrip(Samples.rangeResponse)
        try roundTrip(Samples.txnRequest)
        try roundTrip(Samples.txnResponse)
        try roundTrip(Samples.watchRequest)
        try roundTrip(Samples.watchResponse)
        try roundTrip(Samples.memberListResponse)
        try roundTrip(Samples.statusResponse)
        try roundTrip(Samples.leaseTimeToLiveResponse)
        try roundTrip(Samples.alarmResponse)
    }

    @Test func otherPackages() throws {
        try roundTrip(Samples.keyValue)
        try roundTrip(Samples.role)
        try roundTrip(Samples.user)
        try roundTrip(Samples.lockResponse)
        try roundTrip(Samples.campaignResponse)
        try roundTrip(Samples.healthResponse)
        try roundTrip(Samples.internalRaftRequest)
        try roundTrip(Samples.clusterState)
    }

    @Test func defaultsEncodeToNothing() throws {
        for type in ProtoMessageTypes.all {
            let empty = type.init()
            #expect(empty.serializedBytes().isEmpty, "\(type.protoMessageName)")
            let decoded = try type.init(serializedBytes: [] as [UInt8])
            #expect(decoded.serializedBytes().isEmpty)
        }
    }

    @Test func unknownEnumValuesSurvive() throws {
        let decoded = try Etcdserverpb.RangeRequest(serializedBytes: Samples.rangeRequest.serializedBytes())
        #expect(decoded.sortTarget == .UNRECOGNIZED(77))
        #expect(decoded.sortTarget.rawValue == 77)
        let watch = try Etcdserverpb.WatchRequest(serializedBytes: Samples.watchRequest.serializedBytes())
        guard case .createRequest(let create)? = watch.requestUnion else {
            Issue.record("oneof lost")
            return
        }
        #expect(create.filters == [.noput, .nodelete, .UNRECOGNIZED(5)])
    }

    @Test func bigValue() throws {
        var put = Etcdserverpb.PutRequest()
        put.key = [0]
        put.value = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try roundTrip(put)
        var range = Etcdserverpb.RangeResponse()
        range.kvs = (0..<2000).map { index in
            var kv = Mvccpb.KeyValue()
            kv.key = Array("key-\(index)".utf8)
            kv.value = [UInt8](repeating: UInt8(index % 256), count: index % 700)
            kv.modRevision = Int64(index)
            return kv
        }
        try roundTrip(range)
    }

    @Test func headroomLeavesZeroedPrefix() throws {
        let bytes = Samples.statusResponse.serializedBytes(headroom: 5)
        #expect(Array(bytes.prefix(5)) == [0, 0, 0, 0, 0])
        #expect(Array(bytes.dropFirst(5)) == Samples.statusResponse.serializedBytes())
    }

    @Test func decodesFromSlicesAndNonContiguousCollections() throws {
        let bytes = [0xff, 0xee] + Samples.rangeRequest.serializedBytes()
        #expect(try Etcdserverpb.RangeRequest(serializedBytes: bytes[2...]) == Samples.rangeRequest)
        let deque = AnyCollection(bytes.dropFirst(2))
        #expect(try Etcdserverpb.RangeRequest(serializedBytes: deque) == Samples.rangeRequest)
    }
}

@Suite struct SerializeAPITests {
    @Test func serializeIntoCallerBuffer() throws {
        let message = Samples.txnRequest
        let expected = message.serializedBytes()
        // As a NIO ByteBuffer writer would: size first, then write into its memory.
        let written: [UInt8] = message.serialize { size, write in
            var buffer = [UInt8](repeating: 0xaa, count: size + 3)
            buffer.withUnsafeMutableBytes { write(UnsafeMutableRawBufferPointer(rebasing: $0[3...])) }
            return Array(buffer[3...])
        }
        #expect(written == expected)
        #expect(message.serializedSize == expected.count)
    }
}
