/// A single-server membership change (see README: why single-server).
public enum ConfChangeType: UInt8, Sendable, Hashable {
    /// Add a voter, or promote an existing learner to voter.
    case addNode = 0
    case removeNode = 1
    /// Add a non-voting member that receives the log.
    case addLearnerNode = 2
}

public struct ConfChange: Sendable, Hashable {
    public var type: ConfChangeType
    public var nodeID: UInt64
    /// Opaque to Raft (swift-etcd puts the member's peer URLs here).
    public var context: [UInt8]

    public init(type: ConfChangeType, nodeID: UInt64, context: [UInt8] = []) {
        self.type = type
        self.nodeID = nodeID
        self.context = context
    }

    /// Layout: type u8, nodeID uvarint, context length uvarint + bytes.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(type.rawValue)
        w.uvarint(nodeID)
        w.bytes(context)
        return w.buffer
    }

    public init(decoding bytes: [UInt8]) throws {
        var r = ByteReader(bytes)
        guard let t = ConfChangeType(rawValue: try r.u8()) else {
            throw RaftError.malformed("conf change type")
        }
        type = t
        nodeID = try r.uvarint()
        context = try r.bytes()
        guard r.atEnd else { throw RaftError.malformed("trailing bytes in conf change") }
    }
}
