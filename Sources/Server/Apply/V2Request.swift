import Support

/// etcd's v2 `etcdserverpb.Request`, the entry etcd 3.5.1 still proposes
/// for two cluster facts at start-up, as the entry's whole data (not inside
/// an `InternalRaftRequest`):
/// - each member publishing its attributes: `PUT /0/members/<id hex>/attributes`
///   with `{"name":…,"clientURLs":[…]}` (again after every restart);
/// - the leader setting the cluster version once every member is known:
///   `PUT /0/version` with "3.5.0".
///
/// swift-etcd logs the same entries, byte for byte as etcd's (gogoproto
/// writes every non-pointer field, zeros included), so its log and its
/// consistent index advance as etcd's do, and `migrate` applies the ones it
/// finds in an etcd WAL. Other v2 requests change nothing swift-etcd keeps.
struct V2Request: Equatable, Sendable {
    var id: UInt64
    var method: String
    var path: String
    var value: String

    static let versionPath = "/0/version"

    /// The path a member's attributes are published under (etcd's
    /// `/0/members/<id>/attributes`, the ID in unpadded lowercase hex).
    static func attributesPath(_ memberID: UInt64) -> String {
        "/0/members/\(String(memberID, radix: 16))/attributes"
    }

    /// What the request asks of the v3 state.
    enum Meaning: Equatable {
        case memberAttributes(memberID: UInt64, json: [UInt8])
        case clusterVersion(String)
        /// Any other v2 request: nothing in the v3 state changes.
        case other
    }

    var meaning: Meaning {
        guard method == "PUT" else { return .other }
        if path == Self.versionPath { return .clusterVersion(value) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 5, parts[0].isEmpty, parts[1] == "0", parts[2] == "members", parts[4] == "attributes",
           let id = UInt64(parts[3], radix: 16) {
            return .memberAttributes(memberID: id, json: Array(value.utf8))
        }
        return .other
    }

    /// etcd's marshalled bytes: ID, Method, Path, Val, then Dir, PrevValue,
    /// PrevIndex, Expiration, Wait, Since, Recursive, Sorted, Quorum, Time,
    /// Stream at their zero values (PrevExist and Refresh are pointers, left out).
    func encoded() -> [UInt8] {
        var out: [UInt8] = [0x08]
        ProtoVarint.append(id, to: &out)
        for (tag, text) in [(UInt8(0x12), method), (0x1a, path), (0x22, value)] {
            out.append(tag)
            ProtoVarint.append(UInt64(text.utf8.count), to: &out)
            out.append(contentsOf: text.utf8)
        }
        out += [0x28, 0, 0x32, 0, 0x38, 0, 0x48, 0, 0x50, 0, 0x58, 0, 0x60, 0, 0x68, 0, 0x70, 0, 0x78, 0, 0x80, 0x01, 0]
        return out
    }

    /// Reads `bytes` as a v2 request; nil unless they are one: they start
    /// with the ID and a method (field 2, which an `InternalRaftRequest`
    /// never carries bare), every field is one of `Request`'s with its wire
    /// type, and the strings are UTF-8.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count > 2, bytes[0] == 0x08, Self.hasV2Shape(bytes) else { return nil }
        var id: UInt64 = 0
        var strings: [UInt64: String] = [:]
        var fits = true
        let whole = ProtoTopLevelFields.walk(bytes) { field, wire, value, payload in
            switch (field, wire) {
            case (1, 0):
                id = value ?? 0
            case (2, 2), (3, 2), (4, 2), (6, 2):
                guard let payload, let text = String(validating: bytes[payload], as: UTF8.self) else { fits = false; break }
                strings[field] = text
            case (5...17, 0):
                break
            default:
                fits = false
            }
            return fits
        }
        guard whole, fits, let method = strings[2], !method.isEmpty else { return nil }
        self.init(id: id, method: method, path: strings[3] ?? "", value: strings[4] ?? "")
    }

    /// The field numbers and wire types of a v2 request with a non-empty
    /// method, checked without copying anything: every applied entry comes
    /// through here, and an `InternalRaftRequest` (which also starts with
    /// field 1) fails at its first field past the ID. Implied by a full
    /// decode's success, so checking it first changes no answer.
    private static func hasV2Shape(_ bytes: [UInt8]) -> Bool {
        var hasMethod = false
        let shaped = ProtoTopLevelFields.walk(bytes) { field, wire, _, payload in
            switch (field, wire) {
            case (2, 2):
                hasMethod = payload.map { !$0.isEmpty } ?? false  // the last one counts, as in the decode
                return true
            case (1, 0), (3, 2), (4, 2), (6, 2), (5...17, 0):
                return true
            default:
                return false
            }
        }
        return shaped && hasMethod
    }

    init(id: UInt64, method: String, path: String, value: String) {
        self.id = id
        self.method = method
        self.path = path
        self.value = value
    }
}
