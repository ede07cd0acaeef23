import Config
import Foundation
import Testing

@Suite struct FlagEffectRegistryTests {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// Names of every function declared under Tests/.
    static func declaredFunctions() throws -> Set<String> {
        var names = Set<String>()
        let files = FileManager.default.enumerator(at: testsDir, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "swift", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            var rest = Substring(text)
            while let r = rest.range(of: "func ") {
                let name = rest[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if !name.isEmpty { names.insert(String(name)) }
                rest = rest[r.upperBound...]
            }
        }
        return names
    }

    @Test func everySupportedFlagHasATestShowingItsEffect() throws {
        let supported = EtcdServerFlags.all.filter { $0.group != .hidden && $0.support == .supported }.map(\.name)
        for flag in supported {
            let tests = FlagEffectRegistry.tests[flag] ?? []
            #expect(!tests.isEmpty, "--\(flag) is marked supported but no test shows its effect (FlagEffectRegistry)")
        }
        for flag in FlagEffectRegistry.tests.keys where !supported.contains(flag) {
            Issue.record("FlagEffectRegistry lists --\(flag), which is not a supported flag")
        }
    }

    @Test func everyNamedTestExists() throws {
        let declared = try Self.declaredFunctions()
        for (flag, tests) in FlagEffectRegistry.tests {
            for name in tests where !declared.contains(name) {
                Issue.record("--\(flag): no test named \(name) under Tests/")
            }
        }
    }
}
