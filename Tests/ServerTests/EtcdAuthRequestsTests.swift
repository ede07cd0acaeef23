import Testing
@testable import Server

/// `migrate` finds etcd auth requests among the WAL's committed entries by
/// their InternalRaftRequest field number, whatever comes before them,
/// and never reads past the bytes it was given.
@Suite struct EtcdAuthRequestsTests {
    /// A protobuf tag (field number, wire type) as a varint.
    static func tag(_ field: UInt64, _ wire: UInt64) -> [UInt8] {
        var v = field << 3 | wire
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }

    @Test func findsAuthFieldsAfterOtherFields() {
        // header (100, bytes), ID (1, varint), then put (4, bytes): no auth.
        let put = Self.tag(100, 2) + [2, 8, 7] + Self.tag(1, 0) + [0x96, 0x01] + Self.tag(4, 2) + [3, 10, 1, 0x6B]
        #expect(EtcdAuthRequests.authField(in: put) == nil)
        // auth_enable (1000) with an empty message; auth_user_add (1100) after the ID.
        #expect(EtcdAuthRequests.authField(in: Self.tag(1000, 2) + [0]) == 1000)
        #expect(EtcdAuthRequests.authField(in: Self.tag(1, 0) + [5] + Self.tag(1100, 2) + [2, 10, 0]) == 1100)
        #expect(EtcdAuthRequests.authField(in: Self.tag(1, 1) + [UInt8](repeating: 9, count: 8) + Self.tag(1204, 2) + [0]) == 1204)
        // Just outside the range.
        #expect(EtcdAuthRequests.authField(in: Self.tag(999, 2) + [0] + Self.tag(1300, 2) + [0]) == nil)
    }

    @Test func malformedBytesEndTheScan() {
        // A length past the end, a truncated varint, an unknown wire type: no answer, no trap.
        #expect(EtcdAuthRequests.authField(in: Self.tag(4, 2) + [200, 1] + Self.tag(1000, 2) + [0]) == nil)
        #expect(EtcdAuthRequests.authField(in: [0xFF, 0xFF]) == nil)
        #expect(EtcdAuthRequests.authField(in: Self.tag(3, 7) + Self.tag(1000, 2) + [0]) == nil)
        #expect(EtcdAuthRequests.authField(in: [UInt8](repeating: 0xFF, count: 11)) == nil)
        #expect(EtcdAuthRequests.authField(in: []) == nil)
    }
}
