/// What etcd's leader does with the cluster version on each check (its
/// `monitorVersions`, run at the first commit of a term and every 4 s):
/// - every member's version known: that version (major.minor, ".0"), if the
///   store holds none or a lower one;
/// - some member unknown and none set yet: etcd's minimum, "3.0.0", so the
///   cluster has a version while a member is down; it is raised once every
///   member is known.
/// Unlike etcd, which sets "3.0.0" as soon as a member's /version does not
/// answer, this waits one check interval after becoming leader for the
/// members' hellos, so an ordinary bootstrap logs one version entry.
/// Pure: the caller supplies what it knows.
enum ClusterVersionPolicy {
    /// etcd's `MinClusterVersion`.
    static let minimum = "3.0.0"
    /// etcd's `monitorVersionInterval` (its peer write timeout less 1 s).
    static let checkInterval: Duration = .seconds(4)

    /// The version to propose now, or nil for nothing.
    static func proposal(current: String?, ours: String, everyMemberKnown: Bool,
                         leaderFor: Duration) -> String? {
        if everyMemberKnown {
            let decided = majorMinorZero(ours)
            guard let current else { return decided }
            return lessThan(current, decided) ? decided : nil
        }
        return current == nil && leaderFor >= checkInterval ? minimum : nil
    }

    /// "3.5.1" → "3.5.0": etcd keeps only major.minor of the decided version.
    static func majorMinorZero(_ version: String) -> String {
        let (major, minor) = parts(version)
        return "\(major).\(minor).0"
    }

    /// Compares major.minor numerically ("3.10" > "3.9"); an unreadable part counts as 0.
    static func lessThan(_ a: String, _ b: String) -> Bool {
        let (am, an) = parts(a), (bm, bn) = parts(b)
        return am != bm ? am < bm : an < bn
    }

    private static func parts(_ version: String) -> (Int, Int) {
        let fields = version.split(separator: ".")
        let major = fields.first.flatMap { Int($0) } ?? 0
        let minor = fields.dropFirst().first.flatMap { Int($0) } ?? 0
        return (major, minor)
    }
}
