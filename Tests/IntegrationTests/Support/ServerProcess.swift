import Foundation
import TestSupport

/// A swift-etcd (or reference etcd) process started by a test on free
/// loopback ports with a fresh data dir, stopped (SIGKILL) on `stop()`.
final class ServerProcess: @unchecked Sendable {
    let clientPort: Int
    let peerPort: Int
    let dataDir: String
    let name: String
    private(set) var process: Process?
    let logPath: String
    private let binary: String
    private let extraArgs: [String]
    private let initialCluster: String?
    /// Extra environment variables for the process (e.g. NOTIFY_SOCKET).
    var environment: [String: String] = [:]
    /// `https` serves clients (and peers) over TLS; certificates come in `extraArgs`.
    let clientScheme: String
    let peerScheme: String
    /// Replaces the generated flags entirely (kubeadm's manifest); `clientPort` must still be listened on at 127.0.0.1.
    private let exactArguments: [String]?

    var endpoint: String { "127.0.0.1:\(clientPort)" }
    var clientURL: String { "\(clientScheme)://127.0.0.1:\(clientPort)" }
    var peerURL: String { "\(peerScheme)://127.0.0.1:\(peerPort)" }

    /// `initialCluster` defaults to this member alone; cluster tests choose
    /// the ports up front (`clientPort`, `peerPort`) to list every member.
    init(binary: String? = nil, name: String = "default", extraArgs: [String] = [], dataDir: String? = nil,
         clientPort: Int? = nil, peerPort: Int? = nil, initialCluster: String? = nil,
         clientScheme: String = "http", peerScheme: String = "http", exactArguments: [String]? = nil) throws {
        self.exactArguments = exactArguments
        self.clientScheme = clientScheme
        self.peerScheme = peerScheme
        self.binary = try binary ?? PackagePaths.serverBinary
        self.name = name
        self.extraArgs = extraArgs
        self.clientPort = clientPort ?? freePort()
        self.peerPort = peerPort ?? freePort()
        self.initialCluster = initialCluster
        let base = dataDir ?? NSTemporaryDirectory() + "swift-etcd-test-\(UUID().uuidString)"
        self.dataDir = base
        logPath = base + ".log"
    }

    var arguments: [String] {
        if let exactArguments { return exactArguments }
        return ["--name", name, "--data-dir", dataDir,
         "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
         "--listen-peer-urls", peerURL,
         "--initial-advertise-peer-urls", peerURL,
         "--initial-cluster", initialCluster ?? "\(name)=\(peerURL)"] + extraArgs
    }

    /// Starts the process and waits until its client port accepts connections.
    func start(timeoutSeconds: Double = 60) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if !p.isRunning { throw TestSetupError("server exited with \(p.terminationStatus): \(logTail())") }
            if canConnect(port: clientPort) { return }
            usleep(50_000)
        }
        throw TestSetupError("server did not listen within \(timeoutSeconds)s: \(logTail())")
    }

    /// Sends `signal` and waits for the exit: how long it took, and the
    /// exit status (or the signal number when killed by one).
    @discardableResult
    func stopTimed(signal: Int32 = SIGTERM) -> (seconds: Double, status: Int32, killedBySignal: Bool) {
        guard let p = process, p.isRunning else { return (0, -1, false) }
        let start = Date()
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        process = nil
        return (Date().timeIntervalSince(start), p.terminationStatus, p.terminationReason == .uncaughtSignal)
    }

    /// The process ID while it runs.
    var pid: Int32? { process.map(\.processIdentifier) }

    /// Whether the process is still running.
    var isRunning: Bool { process?.isRunning == true }

    /// Waits (up to `seconds`) for the process to exit on its own; its status.
    func waitForExit(seconds: Double) -> Int32? {
        guard let p = process else { return nil }
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { return nil }
        process = nil
        return p.terminationStatus
    }

    /// The whole log.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the exit; returns the exit status (the
    /// signal's number if it killed the process), nil if it was not running.
    @discardableResult
    func stop(signal: Int32 = SIGKILL) -> Int32? {
        guard let p = process, p.isRunning else { return nil }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        process = nil
        return p.terminationStatus
    }

    func removeData() {
        try? FileManager.default.removeItem(atPath: dataDir)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    func logTail(bytes: Int = 4000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }

    deinit { stop() }
}

func canConnect(port: Int) -> Bool {
    guard let fd = connectedSocket(port: port) else { return false }
    close(fd)
    return true
}

/// A TCP connection to 127.0.0.1:`port` (the caller closes it), nil if refused.
func connectedSocket(port: Int) -> Int32? { connectedLoopbackSocket(port: port) }

/// Runs Debian's etcdctl (v3 API) against an endpoint.
func etcdctl(_ endpoint: String, _ args: [String], stdin: String? = nil) throws -> CommandResult {
    try ProcessRunner.run("etcdctl", ["--endpoints", endpoint, "--command-timeout", "10s"] + args,
                          environment: ["ETCDCTL_API": "3"], stdin: stdin)
}
