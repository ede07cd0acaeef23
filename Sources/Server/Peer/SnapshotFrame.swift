import MVCC
import NIOCore
import Support

/// The frames of a snapshot transfer (peer frame kinds 6–9), sent on a
/// connection of their own so a large database never delays Raft messages:
///
///     leader   → hello                         (as on a message connection)
///     leader   → begin(total bytes, MsgSnap)   kind 6
///     leader   → chunk(offset, digest, bytes)  kind 7, repeated, in order
///     leader   → end(total bytes, digest)      kind 8
///     follower → ack(ok, reason)               kind 9, then both close
///
/// `digest` is the SHA-256 of the database bytes from offset 0 through the
/// end of that chunk (a running digest), so a corrupt chunk is caught when
/// it arrives and the last one covers the whole file. `MsgSnap` is the
/// encoded Raft message; its snapshot's data is `SnapshotExtras`.
enum SnapshotFrame: Equatable {
    case begin(totalBytes: UInt64, message: [UInt8])
    case chunk(offset: UInt64, digest: [UInt8], bytes: ByteBuffer)
    case end(totalBytes: UInt64, digest: [UInt8])
    case ack(ok: Bool, reason: String)

    static let kinds: ClosedRange<UInt8> = 6...9
    private enum Kind: UInt8 { case begin = 6, chunk = 7, end = 8, ack = 9 }

    /// Writes kind + payload (the caller writes the frame length).
    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .begin(let total, let message):
            buffer.writeInteger(Kind.begin.rawValue)
            buffer.writeInteger(total)
            buffer.writeBytes(message)
        case .chunk(let offset, let digest, var bytes):
            buffer.writeInteger(Kind.chunk.rawValue)
            buffer.writeInteger(offset)
            buffer.writeBytes(digest)
            buffer.writeBuffer(&bytes)
        case .end(let total, let digest):
            buffer.writeInteger(Kind.end.rawValue)
            buffer.writeInteger(total)
            buffer.writeBytes(digest)
        case .ack(let ok, let reason):
            buffer.writeInteger(Kind.ack.rawValue)
            buffer.writeInteger(UInt8(ok ? 1 : 0))
            buffer.writeString(reason)
        }
    }

    /// Decodes the payload of a frame of kind `raw` (one of `kinds`).
    init(kind raw: UInt8, body: inout ByteBuffer) throws {
        guard let kind = Kind(rawValue: raw) else { throw PeerProtocolError("unknown snapshot frame kind \(raw)") }
        switch kind {
        case .begin:
            guard let total: UInt64 = body.readInteger() else { throw PeerProtocolError("short snapshot begin frame") }
            self = .begin(totalBytes: total, message: body.readBytes(length: body.readableBytes) ?? [])
        case .chunk:
            guard let offset: UInt64 = body.readInteger(), let digest = body.readBytes(length: SHA256.digestBytes) else {
                throw PeerProtocolError("short snapshot chunk frame")
            }
            self = .chunk(offset: offset, digest: digest, bytes: body.readSlice(length: body.readableBytes)!)
        case .end:
            guard let total: UInt64 = body.readInteger(), let digest = body.readBytes(length: SHA256.digestBytes) else {
                throw PeerProtocolError("short snapshot end frame")
            }
            self = .end(totalBytes: total, digest: digest)
        case .ack:
            guard let ok: UInt8 = body.readInteger() else { throw PeerProtocolError("short snapshot ack frame") }
            self = .ack(ok: ok == 1, reason: body.readString(length: body.readableBytes) ?? "")
        }
    }
}
