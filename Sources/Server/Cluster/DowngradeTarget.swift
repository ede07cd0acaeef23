/// The target of `Maintenance.Downgrade`, read as etcd 3.5 reads it: a
/// semantic version as github.com/coreos/go-semver parses it (three dotted
/// base-10 integers, optional `-prerelease` and `+metadata` made of
/// `[0-9A-Za-z-]` identifiers), or else the same text with ".0" appended
/// (so "3.4" is accepted); only major.minor is kept. Pure, so the edge cases
/// are tested without a server.
struct DowngradeTarget: Equatable, Sendable {
    var major: Int64
    var minor: Int64

    /// As etcd writes it in the downgrade record and logs: "3.4.0".
    var versionString: String { "\(major).\(minor).0" }

    /// nil: etcd's "wrong downgrade target version format".
    init?(parsing text: String) {
        guard let v = Self.semver(Array(text.utf8)) ?? Self.semver(Array((text + ".0").utf8)) else { return nil }
        (major, minor) = v
    }

    init(major: Int64, minor: Int64) {
        self.major = major
        self.minor = minor
    }

    /// The one version a cluster at `cluster` may be downgraded to: one minor below (etcd's AllowedDowngradeVersion).
    static func allowed(from cluster: DowngradeTarget) -> DowngradeTarget {
        DowngradeTarget(major: cluster.major, minor: cluster.minor &- 1)
    }

    /// go-semver's Version.Set: major and minor of a valid version, else nil.
    private static func semver(_ bytes: [UInt8]) -> (Int64, Int64)? {
        var rest = bytes[...]
        var metadata: ArraySlice<UInt8> = []
        var prerelease: ArraySlice<UInt8> = []
        if let plus = rest.firstIndex(of: UInt8(ascii: "+")) {
            metadata = rest[(plus + 1)...]
            rest = rest[..<plus]
        }
        if let dash = rest.firstIndex(of: UInt8(ascii: "-")) {
            prerelease = rest[(dash + 1)...]
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: UInt8(ascii: "."), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isIdentifierList(prerelease), isIdentifierList(metadata) else { return nil }
        var numbers: [Int64] = []
        for part in parts {
            // strconv.ParseInt(s, 10, 64): an optional sign, then decimal digits, in range.
            guard let n = Int64(String(decoding: part, as: UTF8.self)) else { return nil }
            numbers.append(n)
        }
        return (numbers[0], numbers[1])
    }

    /// Empty, or dot-separated non-empty runs of [0-9A-Za-z-].
    private static func isIdentifierList(_ s: ArraySlice<UInt8>) -> Bool {
        if s.isEmpty { return true }
        return s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "-")
            }
        }
    }
}
