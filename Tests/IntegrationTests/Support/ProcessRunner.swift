import Foundation
import TestSupport

/// Runs a command to completion and captures its output; used to drive real
/// clients (etcdctl, curl, Go programs) against a server under test.
struct CommandResult {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

enum ProcessRunner {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    stdin: String? = nil, workingDirectory: String? = nil,
                    timeoutSeconds: Double = 30) throws -> CommandResult {
        try start(executable, arguments, environment: environment, stdin: stdin,
                  workingDirectory: workingDirectory).finish(timeoutSeconds: timeoutSeconds)
    }

    /// Starts a command and returns at once (a watch left running while the
    /// test writes); `finish` collects its result.
    static func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                      stdin: String? = nil, workingDirectory: String? = nil) throws -> RunningCommand {
        try RunningCommand(executable: try resolve(executable), arguments: arguments, environment: environment,
                           stdin: stdin, workingDirectory: workingDirectory)
    }

    static func resolve(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestSetupError("\(name) not found on PATH")
    }
}

/// A command started by `ProcessRunner.start`. Its output goes to files,
/// not pipes, so a chatty child never blocks on a full pipe and nobody has
/// to drain one concurrently.
final class RunningCommand {
    private let process = Process()
    private let outPath: String, errPath: String
    private let started = Date()

    fileprivate init(executable: String, arguments: [String], environment: [String: String],
                     stdin: String?, workingDirectory: String?) throws {
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let base = NSTemporaryDirectory() + "cmd-\(UUID().uuidString)"
        outPath = base + ".out"
        errPath = base + ".err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
    }

    var isRunning: Bool { process.isRunning }

    /// What the command has printed so far, stdout then stderr.
    var outputSoFar: String {
        String(decoding: (FileManager.default.contents(atPath: outPath) ?? Data())
                   + (FileManager.default.contents(atPath: errPath) ?? Data()), as: UTF8.self)
    }

    /// Waits until the output so far satisfies `ready`, the command exits or
    /// `seconds` pass (that only bounds a hang); returns whether `ready` held.
    /// For a command that runs until stopped (a watch): waiting on what it
    /// printed, never on a fixed time, holds on a loaded machine.
    @discardableResult
    func waitForOutput(seconds: Double = 90, _ ready: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ready(outputSoFar) { return true }
            if !process.isRunning { return ready(outputSoFar) }
            usleep(20_000)
        }
        return false
    }

    /// `waitForOutput(ready)`, then stops the command and returns what it printed.
    func finish(when ready: (String) -> Bool, seconds: Double = 90) -> CommandResult {
        waitForOutput(seconds: seconds, ready)
        return finish(timeoutSeconds: 0)
    }

    /// Waits for the exit (killing the command `timeoutSeconds` after it
    /// started) and returns what it printed.
    func finish(timeoutSeconds: Double) -> CommandResult {
        let deadline = started.addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate(); kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        return CommandResult(exitCode: process.terminationStatus,
                             stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
                             stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Paths of the package under test.
enum PackagePaths {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The `swift-etcd` binary the integration tests run: `$SWIFT_ETCD_BINARY`
    /// (`make test` sets it to the release build `make run` starts), else the
    /// release build, else the debug build.
    static var serverBinary: String {
        get throws {
            if let path = ProcessInfo.processInfo.environment["SWIFT_ETCD_BINARY"], !path.isEmpty {
                guard FileManager.default.isExecutableFile(atPath: path) else {
                    throw TestSetupError("SWIFT_ETCD_BINARY=\(path) is not an executable")
                }
                return path
            }
            for config in ["release", "debug"] {
                let path = root.appendingPathComponent(".build/\(config)/swift-etcd").path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            throw TestSetupError("swift-etcd binary not built; run `swift build -c release --product swift-etcd` first")
        }
    }
}

/// A free TCP port on 127.0.0.1 in 20000–32767 (TestSupport's `freeLoopbackPort`).
func freePort() -> Int { freeLoopbackPort() }
