import NIOCore

/// A member's HashKV answer to a peer's corruption check (frame 17).
struct PeerHashAnswer: Equatable, Sendable {
    enum Outcome: UInt8, Sendable {
        case ok = 0
        /// The asked revision is above the answerer's (it lags behind).
        case futureRevision = 1
        /// The asked revision is compacted on the answerer.
        case compacted = 2
        case failed = 3
    }

    var outcome: Outcome
    /// The answerer's current revision (etcd's response header revision).
    var revision: Int64
    var compactRevision: Int64
    var hash: UInt32
}

/// Frames 14–17: round-trip probes and the corruption check's HashKV
/// request/answer. Payloads are fixed-size big-endian integers.
extension PeerFrame {
    func writeProbe(into buffer: inout ByteBuffer) {
        switch self {
        case .ping(let nanos):
            buffer.writeInteger(Kind.ping.rawValue)
            buffer.writeInteger(nanos)
        case .pong(let nanos):
            buffer.writeInteger(Kind.pong.rawValue)
            buffer.writeInteger(nanos)
        case .hashRequest(let requestID, let revision):
            buffer.writeInteger(Kind.hashRequest.rawValue)
            buffer.writeInteger(requestID)
            buffer.writeInteger(revision)
        case .hashAnswer(let requestID, let a):
            buffer.writeInteger(Kind.hashAnswer.rawValue)
            buffer.writeInteger(requestID)
            buffer.writeInteger(a.outcome.rawValue)
            buffer.writeInteger(a.revision)
            buffer.writeInteger(a.compactRevision)
            buffer.writeInteger(a.hash)
        default:
            preconditionFailure("not a probe frame")
        }
    }

    static func readProbe(_ kind: Kind, _ body: inout ByteBuffer) throws -> PeerFrame {
        switch kind {
        case .ping, .pong:
            guard let nanos: UInt64 = body.readInteger() else { throw PeerProtocolError("short ping frame") }
            return kind == .ping ? .ping(sentNanos: nanos) : .pong(sentNanos: nanos)
        case .hashRequest:
            guard let id: UInt64 = body.readInteger(), let rev: Int64 = body.readInteger() else {
                throw PeerProtocolError("short hash request frame")
            }
            return .hashRequest(requestID: id, revision: rev)
        case .hashAnswer:
            guard let id: UInt64 = body.readInteger(), let raw: UInt8 = body.readInteger(),
                  let outcome = PeerHashAnswer.Outcome(rawValue: raw), let rev: Int64 = body.readInteger(),
                  let crev: Int64 = body.readInteger(), let hash: UInt32 = body.readInteger() else {
                throw PeerProtocolError("bad hash answer frame")
            }
            return .hashAnswer(requestID: id, PeerHashAnswer(outcome: outcome, revision: rev, compactRevision: crev, hash: hash))
        default:
            throw PeerProtocolError("not a probe frame")
        }
    }
}
