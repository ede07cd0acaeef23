import Config
import Foundation
import Logging
import Server

// swift-etcd: parse etcd's flags (Config), start one member (Server), tell
// systemd when it serves, stop gracefully on SIGINT/SIGTERM or removal.

MallocTuning.apply()
let result = parseCommandLine(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
let config: EtcdConfig
switch result {
case .help(let text):
    print(text)
    exit(0)
case .version(let text):
    print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    exit(0)
case .error(let message, let code):
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
case .subcommand(let name, let arguments):
    exit(SubcommandRunner.run(name, arguments))
case .run(let parsed):
    config = parsed
}

// etcd checks --initial-cluster only when bootstrapping; a restarted member
// recovers its membership from the data dir.
if !FileManager.default.fileExists(atPath: config.effectiveWALDir) {
    do { try config.validateBootstrap() } catch {
        FileHandle.standardError.write(Data((error.message + "\n").utf8))
        exit(error.exitCode)
    }
}

let logOutput: JSONLogOutput
do {
    logOutput = try JSONLogOutput(outputs: config.logger.outputs.map {
        switch $0 {
        case .stderr: return "stderr"
        case .stdout: return "stdout"
        case .file(let path): return path
        }
    })
} catch {
    FileHandle.standardError.write(Data("swift-etcd: \(error)\n".utf8))
    exit(1)
}
let level = LogLevelMapping.level(config.logger.level)
let logFormat: ZapLineEncoder.Format = config.logger.format == .console ? .console : .json
LoggingSystem.bootstrap { label in ZapLogHandler(label: label, level: level, output: logOutput, format: logFormat) }
let logger = Logger(label: "etcdmain")
logger.info("Running: ", metadata: ["args": .strings(CommandLine.arguments)])
for warning in config.warnings { logger.warning("\(warning)") }

let stop = StopRequest()
SignalCatcher.start(stop) { name in
    logger.warning("received second signal; exiting immediately", metadata: ["signal": .string(name)])
}

// A data dir etcd wrote (`etcdctl snapshot restore`, a stopped etcd member's)
// is converted, etcd's files kept beside it (EtcdDataDirAdoption).
do {
    _ = try EtcdDataDirAdoption.adoptIfNeeded(config, logger: logger)
} catch {
    logger.critical("failed to start etcd server", metadata: ["error": "\(error)"])
    FileHandle.standardError.write(Data("swift-etcd: \(error)\n".utf8))
    exit(1)
}

let options: ServerOptions
do {
    options = try ServerOptions(config: config)
} catch {
    logger.critical("invalid configuration", metadata: ["error": "\(error)"])
    exit(1)
}

/// Leaves after a refused start by _exit, not exit: atexit handlers and
/// static destructors must not run under a thread the failed start may have
/// left (EtcdServer stops what it started; this is the second line). The
/// log lines are written unbuffered; stdio is flushed first.
func leaveAfterRefusedStart(_ code: Int32) -> Never {
    fflush(stdout)
    fflush(stderr)
    _exit(code)
}

let server: EtcdServer
do {
    server = try EtcdServer(options: options, logger: Logger(label: "etcdserver"))
    server.removedFromCluster = { stop.fire(.removed) }
    try await server.start()
} catch let removed as MemberRemovedError {
    logger.warning("server error", metadata: ["error": .string(removed.description)])
    logger.warning("data-dir used by this member must be removed", metadata: ["data-dir": .string(removed.dataDir)])
    leaveAfterRefusedStart(0)
} catch {
    logger.critical("failed to start etcd server", metadata: ["error": "\(error)"])
    FileHandle.standardError.write(Data("swift-etcd: \(error)\n".utf8))
    leaveAfterRefusedStart(1)
}

// etcd tells systemd it is up once the member is ready, or after
// --experimental-wait-cluster-ready-timeout without quorum.
Task {
    if await !server.waitUntilReady(timeout: config.experimentalWaitClusterReadyTimeout) {
        logger.warning("startEtcd: timed out waiting for the ready notification")
    }
    logger.info("notifying init daemon")
    SystemdNotify.send("READY=1")
    logger.info("successfully notified init daemon")
}

let reason = await stop.wait()
switch reason {
case .signal(let name):
    logger.info("received signal; shutting down", metadata: ["signal": .string(name)])
case .removed:
    logger.info("stopping etcd server: this member was removed from the cluster")
}
SystemdNotify.send("STOPPING=1")
await server.stop()
if case .signal(let name) = reason, let signal = SignalCatcher.number(goName: name) {
    SignalCatcher.endBy(signal)
}
exit(0)
