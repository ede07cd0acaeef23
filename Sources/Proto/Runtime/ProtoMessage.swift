/// A protobuf message of the etcd API, encoded and decoded through protobuf-c.
///
/// Values follow proto3 semantics: every field has a default (0, false, empty),
/// defaults are not put on the wire, message fields are optional, repeated fields
/// are arrays, and decoding ignores unknown fields.
///
/// The requirements are implemented by the generated code and are not generic,
/// so calls from other modules need no specialisation to be fast.
public protocol ProtoMessage: Sendable, Hashable {
    /// The message with every field at its default.
    init()

    /// The fully qualified protobuf name, e.g. `etcdserverpb.RangeRequest`.
    static var protoMessageName: String { get }

    /// Encodes the message without an intermediate buffer: calls `body` once with
    /// the exact encoded size and a `write` function that puts the encoding into
    /// the first `size` bytes of the buffer it is given (which must hold at least
    /// `size` bytes). `write` is valid only during `body`. See `serialize(_:)`.
    func pack(_ body: (_ size: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) throws -> Void) rethrows

    /// The encoding preceded by `headroom` zero bytes (e.g. 5 for a gRPC frame
    /// header the caller fills in), so framing needs no second copy.
    func serializedBytes(headroom: Int) -> [UInt8]

    /// Decodes a message; a malformed or truncated encoding, invalid UTF-8 in a
    /// string field, or nesting deeper than `ProtoLimits.maxNestingDepth` throws.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodeError)
}

extension ProtoMessage {
    /// The proto3 encoding of the message.
    @inlinable
    public func serializedBytes() -> [UInt8] {
        serializedBytes(headroom: 0)
    }

    /// `pack(_:)` returning what `body` returns, e.g. to write into a NIO ByteBuffer:
    /// `message.serialize { size, write in buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { write($0); return size } }`.
    @inlinable
    public func serialize<R>(
        _ body: (_ size: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) throws -> R
    ) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: R.self, capacity: 1) { result in
            try pack { size, write in
                // `write` cannot outlive `pack`; the wrapper only satisfies the closure-to-closure rule.
                try withoutActuallyEscaping(write) { write in
                    result.baseAddress!.initialize(to: try body(size, write))
                }
            }
            return result.baseAddress!.move()
        }
    }

    /// The size of the encoding in bytes (costs about as much as encoding).
    public var serializedSize: Int {
        serialize { size, _ in size }
    }

    /// Decodes a message from any collection of bytes (contiguous ones are not copied).
    @inlinable
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
    /// Deepest txn nesting (the outer TxnRequest is 1) that still decodes
    /// inside the one extra message a Raft entry wraps it in. etcd's default
    /// `--max-txn-ops` (128) refuses deeper nesting anyway, since each level
    /// spends at least one op; the server refuses deeper txns before
    /// proposing them, so no committed entry is left undecodable.
    public static let maxTxnDepth = 128

    /// Deepest message nesting accepted when decoding (the outer message is
    /// 1). Only messages whose schema is recursive (TxnRequest ↔ RequestOp,
    /// TxnResponse ↔ ResponseOp) can nest arbitrarily; this bound keeps
    /// protobuf-c's recursive unpack off the stack limit. Each txn level is
    /// two messages (TxnRequest, RequestOp), plus one for the Raft entry.
    public static let maxNestingDepth = 2 * maxTxnDepth + 1
}
