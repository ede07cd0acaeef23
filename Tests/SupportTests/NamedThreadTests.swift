import Foundation
import Support
import Testing

@Suite struct NamedThreadTests {
    /// The name reaches the OS (what `top -H` and `perf` show), cut to Linux's 15 bytes.
    @Test func namedThreadCarriesItsNameInTheKernel() throws {
        #if os(Linux)
        final class Box: @unchecked Sendable { var comm = "" }
        let box = Box()
        let done = Latch()
        Thread.named("watch-fanout-and-more") {
            box.comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            done.open()
        }.start()
        done.wait()
        #expect(box.comm.trimmingCharacters(in: .newlines) == "watch-fanout-an")
        #endif
    }
}
