import Foundation
import Testing
@testable import Config

@Suite struct ReadmeTests {
    /// Sources/Config/README.md holds the generated table between markers.
    /// Run with CONFIG_README_REWRITE=1 to regenerate it.
    @Test func readmeTableMatchesFlagTable() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Config/README.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let begin = "<!-- flags-table:begin -->\n", end = "<!-- flags-table:end -->"
        let b = try #require(text.range(of: begin))
        let e = try #require(text.range(of: end))
        let current = String(text[b.upperBound..<e.lowerBound])
        let generated = flagSupportMarkdown()
        if ProcessInfo.processInfo.environment["CONFIG_README_REWRITE"] == "1", current != generated {
            let updated = String(text[..<b.upperBound]) + generated + String(text[e.lowerBound...])
            try updated.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == generated, "run: CONFIG_README_REWRITE=1 swift test --filter ConfigTests.ReadmeTests")
    }
}
