import Support
import Testing

@Suite struct ProtoVarintTests {
    /// Protobuf's own encodings of these values, and `size` agrees with each.
    @Test func bytesAndSizesMatchProtobuf() {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0]), (1, [1]), (127, [0x7f]), (128, [0x80, 1]), (300, [0xac, 2]), (16_383, [0xff, 0x7f]),
            (16_384, [0x80, 0x80, 1]), (UInt64(UInt32.max), [0xff, 0xff, 0xff, 0xff, 0x0f]),
            (UInt64(bitPattern: -1), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]),
        ]
        for (value, bytes) in cases {
            var out: [UInt8] = [9]
            ProtoVarint.append(value, to: &out)
            #expect(out == [9] + bytes, "\(value)")
            #expect(ProtoVarint.size(value) == bytes.count, "\(value)")
        }
    }
}
