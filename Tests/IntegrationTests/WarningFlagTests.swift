import Foundation
import Testing

/// etcd's slow-work warnings and the defrag health switch:
/// `--experimental-warning-apply-duration`,
/// `--experimental-warning-unary-request-duration`,
/// `--experimental-stop-grpc-service-on-defrag`.
@Suite("Warning flags", .serialized)
struct WarningFlagTests {
    static func jsonLines(_ log: String, msg: String) -> [[String: Any]] {
        log.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["msg"] as? String == msg }
    }

    /// With a 1 ns threshold every apply is "slow": etcd's warning names
    /// the request and prints both durations as Go does.
    @Test func warningApplyDurationWarnsAboutSlowApplies() throws {
        let server = try ServerProcess(extraArgs: ["--experimental-warning-apply-duration", "1ns"])
        try server.start()
        defer { server.stop(); server.removeData() }
        #expect(try etcdctl(server.endpoint, ["put", "slow-key", "v"]).exitCode == 0)
        #expect(try etcdctl(server.endpoint, ["get", "slow-key"]).exitCode == 0)
        let warnings = Self.jsonLines(server.log, msg: "apply request took too long")
        let put = warnings.first { ($0["request"] as? String)?.contains("put:<key:\"slow-key\" value_size:1 >") == true }
        #expect(put?["level"] as? String == "warn" && put?["expected-duration"] as? String == "1ns", "\(warnings)")
        #expect((put?["took"] as? String)?.range(of: #"^[0-9.]+(ns|µs|ms|s)$"#, options: .regularExpression) != nil)
        #expect(warnings.contains { $0["prefix"] as? String == "read-only range " }, "no read warning")
    }

    /// With a 1 ns threshold every unary call is logged as "request stats".
    @Test func warningUnaryRequestDurationLogsSlowCalls() throws {
        let server = try ServerProcess(extraArgs: ["--experimental-warning-unary-request-duration", "1ns"])
        try server.start()
        defer { server.stop(); server.removeData() }
        #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0)
        let stats = Self.jsonLines(server.log, msg: "request stats")
        let put = stats.first { $0["response type"] as? String == "/etcdserverpb.KV/Put" }
        #expect(put?["level"] as? String == "warn", "\(stats)")
        #expect(put?["request content"] as? String == "key:\"k\" value_size:1 ", "\(put ?? [:])")
        #expect(put?["time spent"] is String && put?["request size"] is NSNumber)
    }

    /// While a defragmentation runs, a member started with the flag answers
    /// the gRPC health check NOT_SERVING (so balancers route around it);
    /// without it health stays SERVING.
    @Test func stopGRPCServiceOnDefragReportsNotServing() throws {
        for flag in [true, false] {
            let server = try ServerProcess(extraArgs: flag ? ["--experimental-stop-grpc-service-on-defrag"] : [])
            try server.start()
            defer { server.stop(); server.removeData() }
            let value = String(repeating: "y", count: 512 * 1024)
            for i in 0..<60 { _ = try etcdctl(server.endpoint, ["put", "big/\(i)"], stdin: value) }
            // The watcher polls until the stop file exists (-seconds only bounds a hang).
            let outputFile = server.dataDir + ".healthwatch.out", stopFile = server.dataDir + ".healthwatch.stop"
            _ = FileManager.default.createFile(atPath: outputFile, contents: Data())
            defer { for f in [outputFile, stopFile] { try? FileManager.default.removeItem(atPath: f) } }
            func output() -> String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
            defer { try? handle.close() }
            let watch = Process()
            watch.executableURL = URL(fileURLWithPath: try GoPrograms.binary("healthwatch"))
            watch.arguments = ["-endpoint", server.endpoint, "-seconds", "180", "-stop-file", stopFile]
            watch.standardOutput = handle
            watch.standardError = FileHandle.nullDevice
            try watch.run()
            defer { if watch.isRunning { watch.terminate() } }
            let started = Date().addingTimeInterval(60)
            while watch.isRunning && !output().contains("ready") && Date() < started { usleep(50_000) }
            #expect(output().contains("ready"), "\(output())")
            // With the flag: defragment until the watcher saw NOT_SERVING (a bound of 20);
            // without it, three defragmentations must all stay SERVING.
            var defrags = 0
            let until = Date().addingTimeInterval(60)
            while defrags < (flag ? 20 : 3) && !output().contains("saw NOT_SERVING") && Date() < until {
                _ = try etcdctl(server.endpoint, ["defrag"])
                defrags += 1
            }
            _ = FileManager.default.createFile(atPath: stopFile, contents: Data())
            watch.waitUntilExit()
            let result = output()
            let notServing = Int(result.split(separator: " ").first { $0.hasPrefix("not_serving=") }?.dropFirst(12) ?? "") ?? -1
            if flag {
                #expect(notServing > 0, "health never said NOT_SERVING during defrag: \(result)")
                #expect(server.log.contains("\"msg\":\"stop serving gRPC requests\""))
            } else {
                #expect(notServing == 0, "\(result)")
            }
        }
    }
}
