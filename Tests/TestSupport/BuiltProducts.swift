import Foundation

/// Executables of this package that tests run as child processes
/// (`wal-crash-child`, `mvcc-corrupt`). Shared by WALTests and IntegrationTests.
public enum BuiltProducts {
    /// The path of the executable `name`: the one built beside the running
    /// test bundle first (so a release test run uses release tools), then
    /// the debug and the release build's; nil when none is built.
    public static func executable(_ name: String) -> String? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates: [String] = []
        for _ in 0..<4 {  // up from inside a bundle directory, where the platform has one
            candidates.append(dir.appendingPathComponent(name).path)
            dir = dir.deletingLastPathComponent()
        }
        candidates += ["debug", "release"].map { EtcdDistro.packageRoot.appendingPathComponent(".build/\($0)/\(name)").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
