import CProtobuf
import Proto
import Testing

/// The per-thread scratch buffer packing and unpacking start on
/// (`swiftetcd_scratch_take`): one holder at a time, always handed back, and
/// a pack or decode nested inside another one gets a buffer of its own.
@Suite struct ScratchBufferTests {
    private static func put(_ key: String, _ valueBytes: Int) -> Etcdserverpb.PutRequest {
        var p = Etcdserverpb.PutRequest()
        p.key = Array(key.utf8)
        p.value = (0..<valueBytes).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        p.lease = 42
        return p
    }

    @Test func oneHolderPerThreadAndTheSameBufferAfterGiving() {
        guard let first = swiftetcd_scratch_take() else {
            Issue.record("the thread's scratch buffer was not free")
            return
        }
        #expect(swiftetcd_scratch_take() == nil)
        swiftetcd_scratch_give(first)
        let again = swiftetcd_scratch_take()
        #expect(again == first)
        if let again { swiftetcd_scratch_give(again) }
    }

    @Test func nestedPackAndDecodeInsideAPackGiveTheSameBytes() throws {
        let outer = Self.put("outer", 3000)  // larger than the scratch: the arena adds a chunk
        let inner = Self.put("inner", 10)
        let expectedOuter = outer.serializedBytes()
        let expectedInner = inner.serializedBytes()
        var packed: [UInt8] = []
        var nested: [UInt8] = []
        var decodedInside: Etcdserverpb.PutRequest?
        try outer.pack { size, write in
            nested = inner.serializedBytes()  // the outer pack holds the scratch buffer now
            decodedInside = try nested.withUnsafeBytes { try Etcdserverpb.PutRequest(serializedBytes: $0) }
            packed = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                write(UnsafeMutableRawBufferPointer(buffer))
                count = size
            }
        }
        #expect(packed == expectedOuter)
        #expect(nested == expectedInner)
        #expect(decodedInside == inner)
        let roundTrip = try packed.withUnsafeBytes { try Etcdserverpb.PutRequest(serializedBytes: $0) }
        #expect(roundTrip == outer)
    }

    @Test func aFailedDecodeHandsTheBufferBack() {
        let malformed: [UInt8] = [0x0a, 0x7f, 0x01]  // key announces 127 bytes, has 1
        #expect(throws: ProtoDecodeError.self) {
            _ = try malformed.withUnsafeBytes { try Etcdserverpb.PutRequest(serializedBytes: $0) }
        }
        let scratch = swiftetcd_scratch_take()
        #expect(scratch != nil)
        if let scratch { swiftetcd_scratch_give(scratch) }
    }
}
