import Foundation
import Testing

/// Clients that send calls and never read their socket (Tests/GoClients/unreadclient):
/// what the member holds for them stays bounded, other clients are served,
/// and the memory goes back when they leave. Before: 2,000 unread 1 MB
/// ranges on one connection grew the member to ~1.8 GB and it kept 1.7 GB
/// after the connection closed; 100 unread watch streams behind 50 MB of
/// history grew it past 1.9 GB. The RSS bounds are the server process's own
/// and far above what a bounded member uses (~100–300 MB here).
@Suite(.serialized) struct UnreadClientTests {
    static let rssBoundMB = 1024

    private func rssMB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    private func unread(_ server: ServerProcess, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try GoPrograms.binary("unreadclient"))
        p.arguments = ["-addr", server.endpoint, "-hold", "120s"] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// `total` keys k00000… of `valueBytes` each.
    private func fill(_ server: ServerProcess, total: Int, valueBytes: Int) throws {
        let r = try ProcessRunner.run(try GoPrograms.binary("maintload"),
                                      ["-endpoint", server.endpoint, "-mode", "fill", "-total", "\(total)",
                                       "-val-size", "\(valueBytes)", "-batch", "1", "-clients", "4", "-prefix", "k"],
                                      timeoutSeconds: 300)
        #expect(r.exitCode == 0, "\(r.stderr)")
    }

    /// Range calls answered OK so far (the member's metrics).
    private func rangesHandled(_ server: ServerProcess) throws -> Int {
        let r = try ProcessRunner.run("curl", ["-s", "http://\(server.endpoint)/metrics"])
        let name = #"grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"}"#
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
        return Int(Double(line.split(separator: " ").last ?? "") ?? 0)
    }

    /// Polls until `value` stops changing for `quietSeconds` (or `limit` is reached); returns the last value.
    private func settle(quietSeconds: Double = 3, timeoutSeconds: Double = 90, limit: Int = .max,
                        _ value: () throws -> Int) rethrows -> Int {
        var last = try value(), since = Date()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline && last < limit {
            usleep(250_000)
            let v = try value()
            if v != last { last = v; since = Date() } else if Date().timeIntervalSince(since) >= quietSeconds { break }
        }
        return last
    }

    /// Waits up to `timeoutSeconds` for the RSS to fall under `mb`; returns the last reading.
    private func rssFalls(_ pid: Int32, below mb: Int, timeoutSeconds: Double = 60) -> Int {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var rss = rssMB(pid)
        while rss >= mb && Date() < deadline {
            usleep(250_000)
            rss = rssMB(pid)
        }
        return rss
    }

    @Test func unreadRangesAreHeldBackAndTheirMemoryReturns() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        try fill(server, total: 10, valueBytes: 100_000)  // each Range [k, l) answers ~1 MB
        let pid = try #require(server.process?.processIdentifier)
        let before = rssMB(pid)
        let calls = 3000
        let client = try unread(server, ["-mode", "range", "-calls", "\(calls)", "-key", "k", "-end", "l"])
        defer { if client.isRunning { client.terminate() }; client.waitUntilExit() }
        var peak = rssMB(pid)
        // Answered calls stop growing once the connection's queue is full; unbounded, all 3,000 would be built.
        let handled = try settle(limit: calls) {
            peak = max(peak, rssMB(pid))
            return try rangesHandled(server)
        }
        #expect(handled < 1000, "\(handled) of \(calls) unread 1 MB ranges were built and queued")
        #expect(peak < Self.rssBoundMB, "RSS \(before) MB → \(peak) MB")
        // Other clients are served meanwhile.
        let get = try etcdctl(server.endpoint, ["get", "k", "--prefix", "--keys-only", "--limit", "1"])
        #expect(get.exitCode == 0 && !get.stdout.isEmpty, "\(get.stderr)")
        client.terminate()
        client.waitUntilExit()
        let after = rssFalls(pid, below: before + 300)
        #expect(after < before + 300, "RSS \(before) MB, peak \(peak) MB, \(after) MB after the client left")
        #expect(try etcdctl(server.endpoint, ["put", "after", "ok"]).exitCode == 0)
    }

    @Test func unreadWatchStreamsBehindLargeHistoryStayBounded() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let pid = try #require(server.process?.processIdentifier)
        let before = rssMB(pid)
        let client = try unread(server, ["-mode", "watch", "-calls", "60", "-key", "k", "-end", "l"])
        defer { if client.isRunning { client.terminate() }; client.waitUntilExit() }
        try fill(server, total: 400, valueBytes: 100_000)  // 40 MB of events for each of 60 watchers
        var peak = rssMB(pid)
        _ = settle { let r = rssMB(pid); peak = max(peak, r); return r / 16 }
        #expect(peak < Self.rssBoundMB, "RSS \(before) MB → \(peak) MB")
        #expect(try etcdctl(server.endpoint, ["put", "during", "ok"]).exitCode == 0)
        client.terminate()
        client.waitUntilExit()
        let after = rssFalls(pid, below: before + 300)
        #expect(after < before + 300, "RSS \(before) MB, peak \(peak) MB, \(after) MB after the client left")
    }
}
