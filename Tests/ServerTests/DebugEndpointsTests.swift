import Foundation
import Testing
@testable import Server

@Suite struct DebugEndpointsTests {
    @Test func indexCmdlineAndProcessSnapshots() throws {
        let index = DebugEndpoints.handle(path: "/debug/pprof/", query: "")
        #expect(index.status == 200 && String(decoding: index.body, as: UTF8.self).contains("goroutine"))
        let cmdline = DebugEndpoints.handle(path: "/debug/pprof/cmdline", query: "")
        #expect(String(decoding: cmdline.body, as: UTF8.self) == CommandLine.arguments.joined(separator: "\0"))
        let threads = String(decoding: DebugEndpoints.handle(path: "/debug/pprof/goroutine", query: "debug=1").body, as: UTF8.self)
        let count = Int(threads.split(separator: "\n")[0].split(separator: " ")[1]) ?? 0
        #expect(count >= 1 && threads.split(separator: "\n").filter { $0.hasPrefix("thread ") }.count == count)
        let heap = String(decoding: DebugEndpoints.handle(path: "/debug/pprof/heap", query: "debug=1").body, as: UTF8.self)
        #expect(heap.contains("# VmRSS = "))
    }

    @Test func goOnlyProfilesAnswer501AndUnknownOnes404() {
        for name in ["profile", "trace", "symbol"] {
            let r = DebugEndpoints.handle(path: "/debug/pprof/\(name)", query: "seconds=1")
            #expect(r.status == 501 && String(decoding: r.body, as: UTF8.self).contains("perf record"))
        }
        #expect(DebugEndpoints.handle(path: "/debug/pprof/nope", query: "").status == 404)
    }

    @Test func threadStateIsReadAfterTheCommandName() {
        #expect(DebugEndpoints.threadState("12 (raft loop) S 1 2 3") == "sleeping")
        #expect(DebugEndpoints.threadState("12 (a) b) R 1") == "running")
        #expect(DebugEndpoints.threadState("garbage") == "?")
    }
}
