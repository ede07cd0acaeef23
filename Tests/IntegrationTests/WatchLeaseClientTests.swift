import Foundation
import Testing

/// Watch and Lease through real clients: Debian's etcdctl and Go's clientv3.
@Suite(.serialized) struct WatchLeaseClientTests {
    /// Runs `etcdctl watch …` in the background, once the watch is created
    /// runs `during`, and returns what it printed when that ends with `last`
    /// (or after 90 s, which only bounds a hang).
    private func watch(_ server: ServerProcess, _ args: [String], until last: String, during: () throws -> Void) throws -> String {
        let running = try server.startEtcdctlWatch(args)
        try during()
        return running.finish(when: { $0.hasSuffix(last) }).stdout
    }

    @Test func etcdctlWatchLiveHistoricalPrefixPrevKV() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint

        let live = try watch(server, ["--prefix", "w/"], until: "DELETE\nw/a\n\n") {
            _ = try etcdctl(ep, ["put", "w/a", "1"])
            _ = try etcdctl(ep, ["put", "other", "x"])
            _ = try etcdctl(ep, ["put", "w/b", "2"])
            _ = try etcdctl(ep, ["del", "w/a"])
        }
        #expect(live == "PUT\nw/a\n1\nPUT\nw/b\n2\nDELETE\nw/a\n\n")

        // History from revision 2 (the first put), with previous values.
        _ = try etcdctl(ep, ["put", "w/b", "3"])
        let expected = "PUT\nw/a\n1\nPUT\nw/b\n2\nDELETE\nw/a\n1\nw/a\n\nPUT\nw/b\n2\nw/b\n3\n"
        let history = try etcdctlUntil(ep, ["watch", "--prefix", "w/", "--rev", "2", "--prev-kv"]) { $0.hasSuffix("w/b\n3\n") }.stdout
        #expect(history == expected)

        // A start revision below the compaction point.
        _ = try etcdctl(ep, ["compaction", "4"])
        let compacted = try etcdctlUntil(ep, ["watch", "w/b", "--rev", "2"]) { $0.contains("compacted") }
        #expect((compacted.stdout + compacted.stderr).contains("compacted"), "\(compacted)")
    }

    @Test func etcdctlLeaseCommands() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint

        let grant = try etcdctl(ep, ["lease", "grant", "100"])
        #expect(grant.exitCode == 0, "\(grant.stderr)")
        // "lease 694d7a3b1b1b2c04 granted with TTL(100s)"
        let words = grant.stdout.split(separator: " ")
        #expect(words.count >= 4 && grant.stdout.contains("granted with TTL(100s)"), "\(grant.stdout)")
        let id = String(words[1])

        #expect(try etcdctl(ep, ["put", "lk", "v", "--lease", id]).exitCode == 0)
        let get = try etcdctl(ep, ["get", "lk", "-w", "json"]).stdout
        #expect(get.contains("\"lease\":\(Int64(id, radix: 16)!)"), "\(get)")

        let ttl = try etcdctl(ep, ["lease", "timetolive", id, "--keys"])
        #expect(ttl.stdout.contains("granted with TTL(100s)") && ttl.stdout.contains("attached keys([lk])"), "\(ttl.stdout)")

        let keep = try etcdctl(ep, ["lease", "keep-alive", "--once", id])
        #expect(keep.stdout.contains("keepalived with TTL(100)"), "\(keep.stdout) \(keep.stderr)")

        let list = try etcdctl(ep, ["lease", "list"])
        #expect(list.stdout.contains("found 1 leases") && list.stdout.contains(id), "\(list.stdout)")

        let revoke = try etcdctl(ep, ["lease", "revoke", id])
        #expect(revoke.stdout.contains("revoked"), "\(revoke.stdout) \(revoke.stderr)")
        #expect(try etcdctl(ep, ["get", "lk"]).stdout == "")

        let gone = try etcdctl(ep, ["lease", "timetolive", id])
        #expect(gone.stdout.contains("already expired"), "\(gone.stdout)")
        let badPut = try etcdctl(ep, ["put", "x", "y", "--lease", id])
        #expect(badPut.stderr.contains("requested lease not found"), "\(badPut.stderr)")
        let revokeAgain = try etcdctl(ep, ["lease", "revoke", id])
        #expect(revokeAgain.stderr.contains("requested lease not found"), "\(revokeAgain.stderr)")

        let tooLarge = try etcdctl(ep, ["lease", "grant", "9000000001"])
        #expect(tooLarge.stderr.contains("too large lease TTL"), "\(tooLarge.stderr)")
    }

    @Test func leaseExpiresAndItsKeysGo() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint
        // TTL 1 is raised to the minimum (2 s with the default election timeout).
        let grant = try etcdctl(ep, ["lease", "grant", "1"])
        #expect(grant.stdout.contains("granted with TTL(2s)"), "\(grant.stdout)")
        let id = String(grant.stdout.split(separator: " ")[1])
        _ = try etcdctl(ep, ["put", "ek", "v", "--lease", id])
        var gone = false
        for _ in 0..<50 where !gone {
            usleep(200_000)
            gone = try etcdctl(ep, ["get", "ek"]).stdout.isEmpty
        }
        #expect(gone, "key with an expired lease still there")
    }

    @Test func leasesSurviveRestart() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint
        let grant = try etcdctl(ep, ["lease", "grant", "300"])
        let id = String(grant.stdout.split(separator: " ")[1])
        _ = try etcdctl(ep, ["put", "rk", "v", "--lease", id])
        server.stop(signal: SIGKILL)
        try server.start()
        let ttl = try etcdctl(ep, ["lease", "timetolive", id, "--keys"])
        #expect(ttl.stdout.contains("granted with TTL(300s)") && ttl.stdout.contains("attached keys([rk])"), "\(ttl.stdout) \(ttl.stderr)")
        _ = try etcdctl(ep, ["lease", "revoke", id])
        #expect(try etcdctl(ep, ["get", "rk"]).stdout == "")
    }

    @Test func goClientV3WatchSessionsMutex() throws {
        let binary = try GoPrograms.binary("watchlease")
        let server = try ServerProcess(extraArgs: ["--experimental-watch-progress-notify-interval", "1s"])
        defer { server.stop(); server.removeData() }
        try server.start()
        let result = try ProcessRunner.run(binary, ["-endpoint", server.endpoint], timeoutSeconds: 90)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
        #expect(result.stdout.contains("watchlease: ok"))
    }
}

/// The same seeded workload (puts, deletes, txns, leases and revokes) on
/// swift-etcd and a real etcd, watched the same ways on both: the event
/// streams must be identical.
@Suite(.serialized) struct WatchDifferentialTests {
    @Test(arguments: [1, 2])
    func watchStreamsMatchEtcd(seed: Int) throws {
        let binary = try GoPrograms.binary("watchdiff")
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); reference.stop(); reference.removeData() }
        try ours.start()
        try reference.start()
        let result = try ProcessRunner.run(binary, ["-a", ours.endpoint, "-b", reference.endpoint,
                                                    "-seed", String(seed), "-ops", "300"], timeoutSeconds: 200)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("identical"))
    }
}


/// etcdctl for a command that does not end by itself (watch): stopped after `seconds`.
/// etcdctl ARGS until its output (stdout and stderr so far) satisfies `ready`
/// or it exits; then stopped (a watch runs until then).
private func etcdctlUntil(_ endpoint: String, _ args: [String], _ ready: (String) -> Bool) throws -> CommandResult {
    try ProcessRunner.start("etcdctl", ["--endpoints", endpoint] + args, environment: ["ETCDCTL_API": "3"])
        .finish(when: ready)
}
