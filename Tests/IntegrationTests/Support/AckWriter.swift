import Foundation
import Testing

/// The Go `ackwriter` running against a server or cluster: it writes
/// `ack/…` keys from concurrent clientv3 clients and records every
/// acknowledged put with its revision, so a test can kill servers meanwhile
/// and then check that no acknowledged write was lost.
final class AckWriter {
    private let process = Process()
    private let ackPath: String

    /// - Parameter endpoints: one endpoint or a comma-separated list.
    /// - Parameter valueBytes: pads each value (the key) to this size; 0 leaves it the key.
    convenience init(endpoints: String, clients: Int, ackPath: String, valueBytes: Int = 0) throws {
        try self.init(program: "ackwriter", arguments: ["-endpoint", endpoints, "-clients", String(clients),
                                                        "-value-bytes", String(valueBytes)], ackPath: ackPath)
    }

    /// Any Go program under Tests/GoClients that prints "<key> <revision>"
    /// per acknowledged put (ackwriter, stopload).
    init(program: String, arguments: [String], ackPath: String) throws {
        self.ackPath = ackPath
        process.executableURL = URL(fileURLWithPath: try GoPrograms.binary(program))
        process.arguments = arguments
        FileManager.default.createFile(atPath: ackPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: ackPath)
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var count: Int { (try? String(contentsOfFile: ackPath, encoding: .utf8))?.split(separator: "\n").count ?? 0 }

    /// Waits until at least `target` puts were acknowledged (or the time is up).
    func wait(forAcks target: Int, seconds: Double = 60) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, count < target { usleep(20_000) }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// Every acknowledged put: key → revision it was acknowledged at.
    func acknowledged() throws -> [(key: String, revision: Int64)] {
        try String(contentsOfFile: ackPath, encoding: .utf8).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let rev = Int64(parts[1]) else { return nil }
            return (String(parts[0]), rev)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: ackPath)
    }
}

/// Every `ack/` key on a member and its mod revision, read with etcdctl.
/// `keysOnly` leaves the values out (large values would make the JSON huge).
func ackedKeys(on server: ServerProcess, consistency: String = "l", keysOnly: Bool = false) throws -> [String: Int64] {
    let r = try etcdctl(server.endpoint, ["get", "ack/", "--prefix", "-w", "json", "--consistency=\(consistency)"]
                        + (keysOnly ? ["--keys-only"] : []))
    #expect(r.exitCode == 0, "\(server.name): \(r.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    var found: [String: Int64] = [:]
    for kv in json?["kvs"] as? [[String: Any]] ?? [] {
        guard let k = kv["key"] as? String, let data = Data(base64Encoded: k),
              let rev = (kv["mod_revision"] as? NSNumber)?.int64Value else { continue }
        found[String(decoding: data, as: UTF8.self)] = rev
    }
    return found
}
