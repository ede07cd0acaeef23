/// Protobuf's base-128 varint, for the encoders that write protobuf bytes by
/// hand (watch events, KV answers, Raft proposals, the v2 store, etcd's
/// backend records): one definition of its size and its bytes.
/// `@inlinable`: it sits in the hottest encoding loops of other modules.
public enum ProtoVarint {
    /// Bytes `append` writes for `v` (1 to 10).
    @inlinable
    public static func size(_ v: UInt64) -> Int {
        v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
    }

    /// Appends `v`, seven bits a byte, low bits first.
    @inlinable
    public static func append(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
