import Foundation
import Testing

/// Guards against the Swift 6.3.1 defect that made every restart of the
/// release binary crash (issue 13; `Tests/CompilerDefects/stack-promoted-dealloc`).
///
/// The defect leaves a call `swift_deallocClassInstance(<stack address>)` for
/// a stack-promoted object whose header was never written. No correct program
/// deallocates a stack slot through the runtime, so the scan below looks for
/// exactly that in the machine code of the binary users run.
@Suite("Release binary", .serialized)
struct ReleaseBinaryTests {
    static let defectDir = PackagePaths.root.appendingPathComponent("Tests/CompilerDefects/stack-promoted-dealloc").path

    @Test("the reproducer still shows the defect, and the scanner sees it")
    func reproducerIsDetected() throws {
        #if arch(x86_64)
        let dir = NSTemporaryDirectory() + "defect-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let exe = dir + "/repro"
        let build = try ProcessRunner.run("swiftc", ["-O", "-wmo", "\(Self.defectDir)/Defect.swift",
                                                     "\(Self.defectDir)/main.swift", "-o", exe], timeoutSeconds: 300)
        #expect(build.exitCode == 0, "\(build.stderr)")
        let hits = try Self.stackDeallocations(in: exe)
        let run = try ProcessRunner.run(exe, ["/etc/passwd"], timeoutSeconds: 60)
        if hits.isEmpty {
            // A toolchain without the defect: the workaround in PosixFileSystem.readFile
            // and this reproducer can go. Fail so somebody notices.
            Issue.record("the compiler no longer stack-deallocates through the runtime; run exited \(run.exitCode)")
        } else {
            #expect(hits.contains { $0.contains("readFile") }, "\(hits)")
            #expect(run.exitCode != 0, "the reproducer ran cleanly with the pattern present: \(run.stdout)")
        }
        #else
        // The scan reads x86-64 machine code.
        #endif
    }

    /// `Tests/CompilerDefects/async-catch-capture`: the workaround in
    /// `CorruptionMonitor.ask` is needed while this still prints WRONG.
    @Test("the async-catch-capture reproducer still loses its captured ID at -O")
    func asyncCatchCaptureReproducer() throws {
        let source = PackagePaths.root.appendingPathComponent("Tests/CompilerDefects/async-catch-capture/main.swift").path
        let exe = NSTemporaryDirectory() + "async-catch-capture-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: exe) }
        let build = try ProcessRunner.run("swiftc", ["-O", "-wmo", source, "-o", exe], timeoutSeconds: 300)
        #expect(build.exitCode == 0, "\(build.stderr)")
        let run = try ProcessRunner.run(exe, [], timeoutSeconds: 60)
        if run.stdout.hasPrefix("ok") {
            Issue.record("the compiler no longer loses the captured ID: CorruptionMonitor.ask's workaround and this reproducer can go")
        } else {
            #expect(run.stdout.hasPrefix("WRONG"), "exit \(run.exitCode): \(run.stdout) \(run.stderr)")
        }
    }

    @Test("no function in the release binary deallocates a stack object through the runtime")
    func releaseBinaryIsClean() throws {
        #if arch(x86_64)
        let binary = try PackagePaths.serverBinary
        let hits = try Self.stackDeallocations(in: binary)
        #expect(hits.isEmpty, "\(binary): \(hits)")
        #endif
    }

    @Test("the release binary restarts on its own data (issue 13 reproducer)")
    func restartsOnItsOwnData() throws {
        let server = try ServerProcess()
        try server.start()
        defer { server.stop(); server.removeData() }
        let put = try etcdctl(server.endpoint, ["put", "a", "b"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        server.stop(signal: SIGTERM)
        try server.start()
        let get = try etcdctl(server.endpoint, ["get", "a", "--print-value-only"])
        #expect(get.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "b", "\(get.stderr)")
    }

    /// Functions (demangled) in which a `swift_deallocClassInstance` call takes
    /// its object from `lea …(%rbp|%rsp), %rdi` within the four instructions before it.
    static func stackDeallocations(in binary: String) throws -> [String] {
        let script = #"""
        objdump -d --no-show-raw-insn "$1" | awk '
          /^[0-9a-f]+ <.*>:$/ { fn = $0; n = 0 }
          { w[n % 5] = $0; n++ }
          /call.*<swift_deallocClassInstance@plt>/ {
            for (i = 1; i <= 4 && i < n; i++) {
              if (w[(n - 1 - i) % 5] ~ /lea +-?0x[0-9a-f]+\(%r[bs]p\),%rdi/) { print fn; break }
            }
          }' | sort -u | swift demangle --simplified
        """#
        let result = try ProcessRunner.run("/bin/sh", ["-c", script, "scan", binary], timeoutSeconds: 300)
        guard result.exitCode == 0 else { throw TestSetupError("objdump scan failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
