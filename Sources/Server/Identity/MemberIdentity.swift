import Support

/// Member and cluster IDs derived exactly as etcd derives them, so that a
/// fresh `default` member reports etcd's well-known IDs (member
/// 8e9e05c52164694d, cluster cdf818194e3a8c32) and real tooling sees
/// consistent values across restarts.
public enum MemberIdentity {
    /// Member ID: the first 8 bytes (big-endian) of SHA-1 over the member's
    /// sorted peer URLs concatenated, followed by the cluster token.
    public static func memberID(peerURLs: [String], clusterToken: String) -> UInt64 {
        let joined = peerURLs.sorted().joined() + clusterToken
        return UInt64(bigEndianBytes: SHA1.digest(Array(joined.utf8)))
    }

    /// ID of a member added at runtime: etcd's `member add` hashes the sorted
    /// peer URLs, an empty cluster name and the time in Unix seconds, so a
    /// member removed and added again with the same URLs gets a new ID.
    public static func addedMemberID(peerURLs: [String], unixSeconds: Int64) -> UInt64 {
        let joined = peerURLs.sorted().joined() + String(unixSeconds)
        return UInt64(bigEndianBytes: SHA1.digest(Array(joined.utf8)))
    }

    /// Cluster ID: the first 8 bytes of SHA-1 over every member ID (sorted,
    /// 8 bytes big-endian each).
    public static func clusterID(memberIDs: [UInt64]) -> UInt64 {
        UInt64(bigEndianBytes: SHA1.digest(memberIDs.sorted().flatMap(\.bigEndianBytes)))
    }
}
