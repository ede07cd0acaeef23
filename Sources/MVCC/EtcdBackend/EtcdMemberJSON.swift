import JSONEscaping

/// A member as etcd 3.5.1's `members` bucket holds it: the member as its
/// conf change added it (ID, peer URLs, name, learner). etcd 3.5.1 never
/// writes the client URLs a member publishes there (they stay in its v2
/// store), so neither does the export: the entry is byte for byte etcd's.
public struct EtcdMember: Sendable, Equatable {
    public var id: UInt64
    public var name: String
    public var peerURLs: [String]
    public var isLearner: Bool

    public init(id: UInt64, name: String, peerURLs: [String], isLearner: Bool) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.isLearner = isLearner
    }
}

/// The JSON etcd stores for members and the Raft conf state, as Go's
/// encoding/json writes it (field order of the Go structs, `omitempty`,
/// Go's string escaping), so files compare byte for byte with etcd's.
public enum EtcdMemberJSON {
    /// membership.Member: `{"id":…,"peerURLs":[…],"isLearner":true,"name":…}`.
    static func encode(_ m: EtcdMember) -> [UInt8] {
        var s = "{\"id\":\(m.id),\"peerURLs\":\(list(m.peerURLs))"
        if m.isLearner { s += ",\"isLearner\":true" }
        if !m.name.isEmpty { s += ",\"name\":\(string(m.name))" }
        return Array((s + "}").utf8)
    }

    /// membership.Attributes as a member publishes them through Raft:
    /// `{"name":…,"clientURLs":[…]}`, each left out when empty.
    public static func attributes(name: String, clientURLs: [String]) -> [UInt8] {
        var fields: [String] = []
        if !name.isEmpty { fields.append("\"name\":\(string(name))") }
        if !clientURLs.isEmpty { fields.append("\"clientURLs\":\(list(clientURLs))") }
        return Array(("{" + fields.joined(separator: ",") + "}").utf8)
    }

    /// raftpb.ConfState as etcd 3.5 stores it in `meta`.
    static func confState(voters: [UInt64], learners: [UInt64]) -> [UInt8] {
        var s = "{"
        if !voters.isEmpty { s += "\"voters\":[" + voters.map(String.init).joined(separator: ",") + "]," }
        if !learners.isEmpty { s += "\"learners\":[" + learners.map(String.init).joined(separator: ",") + "]," }
        return Array((s + "\"auto_leave\":false}").utf8)
    }

    static func list(_ items: [String]) -> String { "[" + items.map(string).joined(separator: ",") + "]" }

    /// A JSON string as Go's encoding/json escapes it (HTML-safe).
    static func string(_ s: String) -> String { JSONEscaper.quoted(s, dialect: .encodingJSON) }
}
