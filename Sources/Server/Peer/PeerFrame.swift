import Foundation
import NIOCore
import Raft

/// The peer wire protocol: plain TCP, one frame = `u32 big-endian body
/// length` + body, body = `u8 kind` + payload. A connection carries one
/// direction only (sender → receiver, Raft messages in order):
///
///     sender   → hello (cluster ID, sender ID, receiver ID, sender attributes)
///     receiver → helloRejected(reason) + close, if the IDs do not match
///     sender   → message, message, …   (Raft.Message.encoded())
///
/// Lease keep-alives and TimeToLive sent to a follower are forwarded to the
/// leader with `leaseRequest` on the follower's connection; the leader
/// answers with `leaseAnswer` on its own connection to that follower.
///
/// A snapshot for a lagging follower (a copy of the whole store) goes on a
/// connection of its own: hello, then `snapshot` frames (`SnapshotFrame`).
///
/// Why not gRPC over our HTTP/2 stack: GRPCWire is server-only and an
/// nghttp2 client session would not have fitted in the time; the framing is
/// small enough to test without sockets (`PeerFrameDecoder`).
enum PeerFrame: Equatable {
    case hello(PeerHello)
    case helloRejected(String)
    case message([UInt8])
    /// Follower → leader: a lease operation; `requestID` matches the answer.
    case leaseRequest(requestID: UInt64, leaseID: Int64, op: LeaseOp)
    /// Leader → follower: the operation's result (see `LeaseOp`), or
    /// `LeaseOp.notLeader` in `first` if the receiver is not the leader.
    case leaseAnswer(requestID: UInt64, first: Int64, second: Int64)
    /// Kinds 10–13: member discovery and MemberPromote forwarding.
    case cluster(ClusterPeerFrame)
    /// A snapshot transfer's frames (kinds 6–9), on a connection of their own.
    case snapshot(SnapshotFrame)
    /// Round-trip probe: the receiver echoes `sentNanos` (the sender's
    /// monotonic clock) back in a `pong` on its own connection.
    case ping(sentNanos: UInt64)
    case pong(sentNanos: UInt64)
    /// Corruption check: "your HashKV at `revision`"; answered by `hashAnswer`.
    case hashRequest(requestID: UInt64, revision: Int64)
    case hashAnswer(requestID: UInt64, PeerHashAnswer)

    /// Frames larger than this are a protocol error (bounds memory per peer).
    static let maxBodyBytes = 64 << 20

    enum Kind: UInt8 {
        case hello = 1, helloRejected = 2, message = 3, leaseRequest = 4, leaseAnswer = 5
        case ping = 14, pong = 15, hashRequest = 16, hashAnswer = 17
    }

    func write(into buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        switch self {
        case .hello(let h):
            buffer.writeInteger(Kind.hello.rawValue)
            buffer.writeInteger(h.clusterID)
            buffer.writeInteger(h.fromID)
            buffer.writeInteger(h.toID)
            buffer.writeBytes(h.attributesJSON)
        case .helloRejected(let reason):
            buffer.writeInteger(Kind.helloRejected.rawValue)
            buffer.writeString(reason)
        case .message(let bytes):
            buffer.writeInteger(Kind.message.rawValue)
            buffer.writeBytes(bytes)
        case .leaseRequest(let requestID, let leaseID, let op):
            buffer.writeInteger(Kind.leaseRequest.rawValue)
            buffer.writeInteger(requestID)
            buffer.writeInteger(leaseID)
            buffer.writeInteger(op.rawValue)
        case .leaseAnswer(let requestID, let first, let second):
            buffer.writeInteger(Kind.leaseAnswer.rawValue)
            buffer.writeInteger(requestID)
            buffer.writeInteger(first)
            buffer.writeInteger(second)
        case .cluster(let frame):
            frame.write(into: &buffer)
        case .snapshot(let frame):
            frame.write(into: &buffer)
        case .ping, .pong, .hashRequest, .hashAnswer:
            writeProbe(into: &buffer)
        }
        buffer.setInteger(UInt32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    /// Decodes one frame body (kind + payload).
    init(body: inout ByteBuffer) throws {
        guard let raw: UInt8 = body.getInteger(at: body.readerIndex) else { throw PeerProtocolError("empty peer frame") }
        if ClusterPeerFrame.handles(kind: raw) {
            body.moveReaderIndex(forwardBy: 1)
            self = .cluster(try ClusterPeerFrame(kind: raw, body: &body))
            return
        }
        body.moveReaderIndex(forwardBy: 1)
        if SnapshotFrame.kinds.contains(raw) {
            self = .snapshot(try SnapshotFrame(kind: raw, body: &body))
            return
        }
        guard let kind = Kind(rawValue: raw) else { throw PeerProtocolError("unknown peer frame kind") }
        switch kind {
        case .hello:
            guard let cluster: UInt64 = body.readInteger(), let from: UInt64 = body.readInteger(),
                  let to: UInt64 = body.readInteger() else { throw PeerProtocolError("short hello") }
            self = .hello(PeerHello(clusterID: cluster, fromID: from, toID: to,
                                    attributesJSON: body.readBytes(length: body.readableBytes) ?? []))
        case .helloRejected:
            self = .helloRejected(body.readString(length: body.readableBytes) ?? "")
        case .message:
            self = .message(body.readBytes(length: body.readableBytes) ?? [])
        case .leaseRequest:
            guard let requestID: UInt64 = body.readInteger(), let leaseID: Int64 = body.readInteger(),
                  let raw: UInt8 = body.readInteger(), let op = LeaseOp(rawValue: raw) else {
                throw PeerProtocolError("bad lease request frame")
            }
            self = .leaseRequest(requestID: requestID, leaseID: leaseID, op: op)
        case .leaseAnswer:
            guard let requestID: UInt64 = body.readInteger(), let first: Int64 = body.readInteger(),
                  let second: Int64 = body.readInteger() else { throw PeerProtocolError("short lease answer frame") }
            self = .leaseAnswer(requestID: requestID, first: first, second: second)
        case .ping, .pong, .hashRequest, .hashAnswer:
            self = try Self.readProbe(kind, &body)
        }
    }
}

/// Lease operations a follower forwards to the leader.
enum LeaseOp: UInt8 {
    /// Answer: (TTL seconds, 0); TTL 0 for an unknown or expired lease.
    case renew = 1
    /// Answer: (remaining seconds, granted TTL seconds); remaining -1 if unknown.
    case timeToLive = 2

    /// `first` of an answer from a member that is not the leader.
    static let notLeader = Int64.min
}

/// What a sender says about itself when it connects.
struct PeerHello: Equatable {
    var clusterID: UInt64
    var fromID: UInt64
    var toID: UInt64
    /// JSON `MemberAttributes` of the sender (name, client URLs): how members
    /// learn each other's client URLs for `MemberList`.
    var attributesJSON: [UInt8]
}

/// A member's self-description, exchanged in the hello.
struct MemberAttributes: Codable, Equatable {
    var name: String
    var clientURLs: [String]
}

struct PeerProtocolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Cuts the byte stream into frames.
///
/// The first frame of a connection (a hello or a members request, a few
/// hundred bytes) may be at most `firstFrameMaxBytes`: the peer listener sets
/// 64 KiB, so a stranger on the peer port, who has not been admitted yet,
/// cannot make this member buffer `PeerFrame.maxBodyBytes` per connection
/// (nor 1 MiB on each of thousands of connections it opens).
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerFrame
    static let helloMaxBytes = 64 << 10
    var firstFrameMaxBytes = PeerFrame.maxBodyBytes
    private var sawFirst = false

    init(firstFrameMaxBytes: Int = PeerFrame.maxBodyBytes) { self.firstFrameMaxBytes = firstFrameMaxBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.next(&buffer, maxBytes: sawFirst ? PeerFrame.maxBodyBytes : firstFrameMaxBytes)
        else { return .needMoreData }
        sawFirst = true
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// The next whole frame in `buffer`, if there is one; a body over `maxBytes` is a protocol error.
    static func next(_ buffer: inout ByteBuffer, maxBytes: Int = PeerFrame.maxBodyBytes) throws -> PeerFrame? {
        guard let length: UInt32 = buffer.getInteger(at: buffer.readerIndex) else { return nil }
        guard Int(length) <= maxBytes, length >= 1 else {
            throw PeerProtocolError("peer frame of \(length) bytes")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var body = buffer.readSlice(length: Int(length))!
        return try PeerFrame(body: &body)
    }
}
