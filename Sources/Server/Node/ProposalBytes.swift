import Proto
import Support

/// A KV write's Raft entry built around the request's bytes as the client
/// sent them, instead of encoding the decoded request again (that encoding
/// was 7% of a txn-put's instructions).
///
/// The entry is an `InternalRaftRequest` with the ID (field 1), the request
/// (field `field`: the client's bytes, verbatim) and a header holding only
/// the ID (field 100): for a request the client encoded canonically, the
/// very bytes encoding the decoded request gives (`ProposalBytesTests`), and
/// for any other encoding bytes that decode to the same request, as a
/// protobuf decoder takes a field's value from an embedded message's bytes
/// the way it decodes them alone.
struct ProposalBytes: Sendable {
    /// `InternalRaftRequest`'s field numbers of the writes a client sends.
    enum Field: UInt64, Sendable {
        case put = 4, deleteRange = 5, txn = 6
    }

    let field: Field
    /// The request message as received (its gRPC frame's payload).
    let request: [UInt8]

    /// The entry's bytes under `id` (no user: only for requests proposed
    /// without an identity), or nil when `request` is too large for its
    /// size to stand for the canonical encoding's against `maxRequestBytes`.
    ///
    /// An encoding need not be the shortest (a negative enum value fits in
    /// 5 bytes where the canonical form takes 10), but no field's canonical
    /// form is more than twice the bytes it was sent in; so within half the
    /// limit, the canonical entry, which etcd measures, is within it too.
    func entry(id: UInt64, maxRequestBytes: Int) -> [UInt8]? {
        let headerBody = 1 + Self.varintSize(id)
        let size = 1 + Self.varintSize(id)
            + 1 + Self.varintSize(UInt64(request.count)) + request.count
            + 2 + Self.varintSize(UInt64(headerBody)) + headerBody
        guard 2 * size <= maxRequestBytes else { return nil }
        return [UInt8](unsafeUninitializedCapacity: size) { out, count in
            var at = 0
            func put(_ byte: UInt8) { out[at] = byte; at += 1 }
            func varint(_ value: UInt64) {
                var v = value
                while v >= 0x80 { put(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
                put(UInt8(v))
            }
            put(0x08)  // 1: id
            varint(id)
            put(UInt8(field.rawValue << 3 | 2))
            varint(UInt64(request.count))
            request.withUnsafeBufferPointer { bytes in
                if let base = bytes.baseAddress { (out.baseAddress! + at).update(from: base, count: bytes.count) }
            }
            at += request.count
            put(0xa2)  // 100: header, length-delimited (tag 802 as a varint)
            put(0x06)
            varint(UInt64(headerBody))
            put(0x08)  // header.id
            varint(id)
            precondition(at == size)
            count = size
        }
    }

    static func varintSize(_ value: UInt64) -> Int { ProtoVarint.size(value) }
}
