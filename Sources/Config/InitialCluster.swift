/// `--initial-cluster`: `name=peerURL,name=peerURL,…`. A name may repeat to
/// give a member several peer URLs (etcd's `types.NewURLsMap`).
public struct InitialCluster: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let name: String
        public let peerURLs: [EtcdURL]
    }

    /// Members in order of first appearance.
    public let members: [Member]

    public init(members: [Member]) { self.members = members }

    public var names: [String] { members.map(\.name) }

    /// name → peer URLs.
    public var urlsByName: [String: [EtcdURL]] {
        Dictionary(uniqueKeysWithValues: members.map { ($0.name, $0.peerURLs) })
    }

    public subscript(name: String) -> [EtcdURL]? {
        members.first { $0.name == name }?.peerURLs
    }

    /// Parses with etcd's rules: items split on `,`, empty items skipped, the
    /// first `=` splits name and URL, every URL must satisfy `EtcdURL.parse`.
    public static func parse(_ text: String) throws(FlagValueError) -> InitialCluster {
        var order: [String] = []
        var urls: [String: [EtcdURL]] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let name: Substring
            let urlText: Substring
            if let eq = item.firstIndex(of: "=") {
                name = item[..<eq]
                urlText = item[item.index(after: eq)...]
            } else {
                name = item
                urlText = ""
            }
            let parsed: EtcdURL
            do { parsed = try EtcdURL.parse(String(urlText)) } catch {
                throw FlagValueError("--initial-cluster \(item): \(error.message)")
            }
            let key = String(name)
            if urls[key] == nil { order.append(key) }
            urls[key, default: []].append(parsed)
        }
        return InitialCluster(members: order.map { Member(name: $0, peerURLs: urls[$0]!) })
    }

    /// True when two members (or one member twice) list the same peer URL:
    /// etcd's "initial cluster … has duplicate url".
    public var hasDuplicateURL: Bool {
        var seen = Set<String>()
        for m in members { for u in m.peerURLs where !seen.insert(u.string).inserted { return true } }
        return false
    }

    /// etcd's `InitialClusterFromName`: `name=url` for each advertised peer URL.
    public static func fromName(_ name: String, advertisePeerURLs: [EtcdURL]) -> String {
        advertisePeerURLs.map { "\(name)=\($0.string)" }.joined(separator: ",")
    }
}
