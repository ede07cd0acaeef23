import Foundation
import Testing

/// Runs every testdata/*.txt scenario. Format: a command line, `----`, the
/// expected output, a blank line; `#` lines are comments. With RAFT_REWRITE=1
/// the files are rewritten with the actual output (review the diff!).
@Suite struct ScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test(arguments: ScenarioTests.files)
    func scenario(_ name: String) throws {
        let path = Self.directory.appendingPathComponent(name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let interp = ScenarioInterpreter()
        var rewritten: [String] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty {
                rewritten.append(line)
                i += 1
                continue
            }
            let cmd = line
            i += 1
            precondition(i < lines.count && lines[i] == "----", "\(name):\(i): expected ---- after \(cmd)")
            i += 1
            var expected: [String] = []
            while i < lines.count && !lines[i].isEmpty {
                expected.append(lines[i])
                i += 1
            }
            let actual = try interp.run(cmd)
            #expect(actual == expected.joined(separator: "\n"), "\(name): \(cmd)")
            rewritten.append(cmd)
            rewritten.append("----")
            if !actual.isEmpty { rewritten.append(actual) }
            rewritten.append("")
            i += 1 // the blank separator
        }
        if ProcessInfo.processInfo.environment["RAFT_REWRITE"] == "1" {
            while rewritten.last == "" { rewritten.removeLast() }
            try (rewritten.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
