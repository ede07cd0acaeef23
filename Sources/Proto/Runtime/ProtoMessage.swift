/// A protobuf message of the etcd API, encoded and decoded through protobuf-c.
///
/// Values follow proto3 semantics: every field has a default (0, false, empty),
/// defaults are not put on the wire, message fields are optional, repeated fields
/// are arrays, and decoding ignores unknown fields.
public protocol ProtoMessage: Sendable, Hashable {
    /// The message with every field at its default.
    init()

    /// The fully qualified protobuf name, e.g. `etcdserverpb.RangeRequest`.
    static var protoMessageName: String { get }

    /// Encodes the message without an intermediate buffer: calls `body` with the
    /// exact encoded size and a `pack` function that writes the encoding into the
    /// first `size` bytes of the buffer it is given (which must hold at least
    /// `size` bytes). `pack` is valid only during `body`.
    func serialize<R>(
        _ body: (_ size: Int, _ pack: (UnsafeMutableRawBufferPointer) -> Void) throws -> R
    ) rethrows -> R

    /// Decodes a message; a malformed or truncated encoding, invalid UTF-8 in a
    /// string field, or nesting deeper than `ProtoLimits.maxNestingDepth` throws.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodeError)
}

extension ProtoMessage {
    /// The proto3 encoding of the message.
    public func serializedBytes() -> [UInt8] {
        serializedBytes(headroom: 0)
    }

    /// The encoding preceded by `headroom` zero bytes (e.g. 5 for a gRPC frame
    /// header the caller fills in), so framing needs no second copy.
    public func serializedBytes(headroom: Int) -> [UInt8] {
        precondition(headroom >= 0)
        return serialize { size, pack in
            [UInt8](unsafeUninitializedCapacity: headroom + size) { buffer, count in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                if headroom > 0 { raw.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: headroom) }
                pack(UnsafeMutableRawBufferPointer(rebasing: raw[headroom...]))
                count = headroom + size
            }
        }
    }

    /// The size of the encoding in bytes (costs about as much as encoding).
    public var serializedSize: Int {
        serialize { size, _ in size }
    }

    /// Decodes a message from any collection of bytes (contiguous ones are not copied).
    public init(serializedBytes bytes: some Collection<UInt8>) throws(ProtoDecodeError) {
        let decoded: Result<Self, ProtoDecodeError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(ProtoDecodeError) -> Self in try Self(serializedBytes: UnsafeRawBufferPointer(buffer)) }
        }
        if let decoded {
            self = try decoded.get()
        } else {
            let copy = Array(bytes)
            let result = copy.withUnsafeBytes { raw in
                Result { () throws(ProtoDecodeError) -> Self in try Self(serializedBytes: raw) }
            }
            self = try result.get()
        }
    }
}

/// A protobuf enum: known values are cases, any other value is kept in
/// `UNRECOGNIZED` so it survives a decode/encode round trip (proto3 open enums).
public protocol ProtoEnum: RawRepresentable, Hashable, Sendable where RawValue == Int32 {
    /// The zero value, the default of a proto3 enum field.
    init()
}

/// Why a message could not be decoded.
public enum ProtoDecodeError: Error, Hashable, Sendable {
    /// Not a valid encoding of the message (truncated, bad tag, bad length, wrong wire type).
    case malformed
    /// A string field does not hold valid UTF-8.
    case invalidUTF8
    /// Messages nested deeper than `ProtoLimits.maxNestingDepth` (recursive Txn).
    case nestingTooDeep
}

/// Limits the decoder enforces on untrusted input.
public enum ProtoLimits {
    /// Deepest message nesting accepted when decoding. Only messages whose schema
    /// is recursive (TxnRequest ↔ RequestOp, TxnResponse ↔ ResponseOp) can nest
    /// arbitrarily; this bound keeps protobuf-c's recursive unpack off the stack limit.
    public static let maxNestingDepth = 100
}
