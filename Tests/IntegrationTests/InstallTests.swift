import Foundation
import Testing

/// `make install PREFIX=…` (scripts/install.sh on the release binary): a
/// binary that needs no Swift toolchain, its man page, the systemd unit.
@Suite("Install", .serialized)
struct InstallTests {
    @Test func installsAToolchainFreeBinaryManPageAndUnit() throws {
        let prefix = NSTemporaryDirectory() + "swift-etcd-prefix-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let root = PackagePaths.root.path
        let install = try ProcessRunner.run("\(root)/scripts/install.sh", [prefix, try PackagePaths.serverBinary],
                                            workingDirectory: root, timeoutSeconds: 60)
        #expect(install.exitCode == 0, "\(install.stderr)")
        let binary = prefix + "/bin/swift-etcd"

        // No Swift runtime library is loaded from anywhere: it is inside the binary.
        let ldd = try ProcessRunner.run("ldd", [binary])
        #expect(ldd.exitCode == 0)
        #expect(!ldd.stdout.contains("libswift") && !ldd.stdout.contains("libFoundation") && !ldd.stdout.contains("/opt/swift"),
                "\(ldd.stdout)")
        let version = try ProcessRunner.run(binary, ["--version"], environment: ["LD_LIBRARY_PATH": ""])
        #expect(version.exitCode == 0 && version.stdout.hasPrefix("etcd Version: "), "\(version.stderr)")

        // With the toolchain made invisible (a mount namespace hides /opt/swift), it still runs.
        if getuid() == 0, (try? ProcessRunner.resolve("unshare")) != nil, FileManager.default.fileExists(atPath: "/opt/swift") {
            let hidden = try ProcessRunner.run("unshare", ["-m", "sh", "-c",
                "mount -t tmpfs none /opt/swift && ls /opt/swift | wc -l && \(binary) --version"])
            #expect(hidden.exitCode == 0, "\(hidden.stderr)")
            #expect(hidden.stdout.hasPrefix("0\n") && hidden.stdout.contains("API Version: 3.5"), "\(hidden.stdout)")
        }

        // The man page is the --help text; the unit starts the installed binary and is Type=notify.
        let man = try String(contentsOfFile: prefix + "/share/man/man1/swift-etcd.1", encoding: .utf8)
        #expect(man.hasPrefix(".TH SWIFT-ETCD 1") && man.contains("SYNOPSIS") && man.contains("--listen-client-urls"))
        let unit = try String(contentsOfFile: prefix + "/lib/systemd/system/swift-etcd.service", encoding: .utf8)
        #expect(unit.contains("Type=notify"))
        #expect(unit.contains("ExecStart=\(binary) "))
    }

    /// `--version` states the etcd version and API it speaks, its own
    /// version and the commit the Makefile passed (`make test` builds it so).
    @Test func versionNamesTheAPIAndTheCommit() throws {
        let version = try ProcessRunner.run(try PackagePaths.serverBinary, ["--version"])
        #expect(version.stdout.contains("etcd Version: 3.5.1\nAPI Version: 3.5\nswift-etcd Version: "), "\(version.stdout)")
        if let commit = ProcessInfo.processInfo.environment["SWIFT_ETCD_GIT_COMMIT"], !commit.isEmpty {
            #expect(version.stdout.contains("Git SHA: \(commit)\n"), "\(version.stdout)")
        }
    }
}
