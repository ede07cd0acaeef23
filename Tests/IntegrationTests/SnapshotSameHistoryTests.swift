import Bolt
import Foundation
import Support
import Testing

/// A snapshot of swift-etcd and one of etcd 3.5.1 holding the same history
/// are the same to etcd's tools (README, "Snapshots"): two single members
/// with the same identity (name, advertised peer URL, cluster token, hence
/// the same member and cluster IDs), started, optionally restarted, take one
/// fixed history through python etcd3 and stream a snapshot each.
///
/// Every bucket and every entry is equal byte for byte, `meta`
/// `consistent_index` included: swift-etcd logs the entries etcd 3.5.1
/// logs at start-up (each start's member attributes, the leader's cluster
/// version), so `snapshot status` prints the same hash, revision and key
/// count. The hash is a CRC-32C of bucket names, keys and values in order
/// (not of pages), checked here too.
@Suite struct SnapshotSameHistoryTests {
    typealias Buckets = [(name: [UInt8], entries: [([UInt8], [UInt8])])]

    /// Buckets and entries in file order (the snapshot's trailing SHA-256 left off).
    static func read(_ path: String) throws -> Buckets {
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        let reader = try BoltReader(try BoltFileSource(path: path, sizeBytes: Int64(size - size % 4096)))
        return try reader.buckets().map { bucket in
            var entries: [([UInt8], [UInt8])] = []
            try reader.forEach(bucket) { k, v, _, _ in entries.append((Array(k), Array(v))) }
            return (bucket.name, entries)
        }
    }

    /// etcd's `snapshot status` hash: CRC-32C over each bucket's name, then its keys and values.
    static func statusHash(_ buckets: Buckets) -> UInt32 {
        var crc: UInt32 = 0
        for b in buckets {
            crc = CRC32C.update(crc, b.name)
            for (k, v) in b.entries { crc = CRC32C.update(CRC32C.update(crc, k), v) }
        }
        return crc
    }

    /// Until this start's attributes and the cluster version are applied
    /// (the log lines both servers write then), so a restart or the history
    /// never races them.
    static func waitForStartUpEntries(_ server: ServerProcess) throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let log = server.log
            if log.contains("published local member to cluster through raft") && log.contains("enabled capabilities for version") {
                return
            }
            usleep(20_000)
        }
        throw TestSetupError("start-up entries not applied: \(server.logTail())")
    }

    static func status(_ file: String) throws -> [String: Int] {
        let r = try ProcessRunner.run(try EtcdTools.etcdutl35, ["snapshot", "status", file, "-w", "json"], timeoutSeconds: 60)
        #expect(r.exitCode == 0, "\(r.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Int]) ?? [:]
    }

    @Test(arguments: [0, 1])
    func sameHistoryGivesEtcdsSnapshot(restarts: Int) throws {
        let advertisedPeer = "http://127.0.0.1:\(freePort())"
        var files: [String] = []
        defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
        for binary in [try EtcdTools.etcd35, try PackagePaths.serverBinary] {
            let client = freePort(), peer = freePort()
            let dir = NSTemporaryDirectory() + "same-history-\(UUID().uuidString)"
            let server = try ServerProcess(binary: binary, dataDir: dir, clientPort: client, exactArguments: [
                "--name", "m1", "--data-dir", dir, "--initial-cluster-token", "same-history",
                "--listen-client-urls", "http://127.0.0.1:\(client)", "--advertise-client-urls", "http://127.0.0.1:\(client)",
                "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", advertisedPeer,
                "--initial-cluster", "m1=\(advertisedPeer)",
            ])
            defer { server.stop(); server.removeData() }
            try server.start()
            try Self.waitForStartUpEntries(server)
            for _ in 0..<restarts {
                _ = server.stopTimed(signal: SIGTERM)
                try server.start()
                try Self.waitForStartUpEntries(server)
            }
            let file = dir + ".snapshot.db"
            files.append(file)
            let r = try ProcessRunner.run(PackagePaths.root.appendingPathComponent(".venv/bin/python").path,
                                          [PackagePaths.root.appendingPathComponent("Tests/PythonClients/etcd3_same_history.py").path,
                                           String(client), file], timeoutSeconds: 120)
            #expect(r.exitCode == 0, "\(binary): \(r.stdout)\n\(r.stderr)\n\(server.logTail())")
        }
        let (theirs, ours) = (try Self.read(files[0]), try Self.read(files[1]))
        #expect(ours.map(\.name) == theirs.map(\.name))
        for (mine, their) in zip(ours, theirs) {
            let name = String(decoding: their.name, as: UTF8.self)
            #expect(mine.entries.map(\.0) == their.entries.map(\.0), "keys of bucket \(name)")
            for ((k, v), (_, w)) in zip(mine.entries, their.entries) where v != w {
                Issue.record("bucket \(name), key \(BoltReader.show(k.withUnsafeBytes { $0 })): \(v) ≠ etcd's \(w)")
            }
        }
        #expect(ours.first { $0.name == Array("key".utf8) }?.entries.count ?? 0 > 50)

        let (theirStatus, ourStatus) = (try Self.status(files[0]), try Self.status(files[1]))
        #expect(ourStatus["hash"] != nil && ourStatus["hash"] == theirStatus["hash"], "ours \(ourStatus), etcd \(theirStatus)")
        #expect(ourStatus["revision"] == theirStatus["revision"] && ourStatus["totalKey"] == theirStatus["totalKey"],
                "ours \(ourStatus), etcd \(theirStatus)")
        #expect(Self.statusHash(theirs) == UInt32(theirStatus["hash"] ?? -1), "the hash is over content alone")
        #expect(Self.statusHash(ours) == UInt32(ourStatus["hash"] ?? -1))
    }
}
