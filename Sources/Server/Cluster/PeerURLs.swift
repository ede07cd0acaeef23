import Config

extension ServerError {
    static let memberBadURLs = ServerError(code: .invalidArgument, message: "etcdserver: given member URLs are invalid")
}

/// etcd's check of a MemberAdd/MemberUpdate request's peer URLs
/// (`types.NewURLs` in v3rpc/member.go, before anything else): at least one,
/// each a URL Go parses with scheme http, https, unix or unixs, a host:port
/// and no path. A member whose peer URLs cannot be dialled would be a voter
/// no one can reach: an empty list left a one-member cluster without a leader.
enum PeerURLs {
    /// The URLs as etcd stores them: trimmed, scheme lower-cased, sorted.
    static func validated(_ raw: [String]) throws -> [String] {
        guard !raw.isEmpty else { throw ServerError.memberBadURLs }
        var urls: [String] = []
        for text in raw {
            guard let url = try? EtcdURL.parse(text) else { throw ServerError.memberBadURLs }
            urls.append(url.canonical)
        }
        return urls.sorted()
    }
}
