import Config
import Foundation
import Logging
import Server

// swift-etcd: parse etcd's flags (Config), start one member (Server), stop
// gracefully on SIGINT/SIGTERM.

let result = parseCommandLine(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
let config: EtcdConfig
switch result {
case .help(let text):
    print(text)
    exit(0)
case .version(let text):
    print(text)
    exit(0)
case .error(let message, let code):
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
case .subcommand(let name, let arguments):
    guard name == "snapshot" else {
        FileHandle.standardError.write(Data("swift-etcd: the '\(name)' subcommand is not built yet\n".utf8))
        exit(2)
    }
    exit(SnapshotCommandRunner.run(arguments))
case .run(let parsed):
    config = parsed
}

// etcd checks --initial-cluster only when bootstrapping; a restarted member
// recovers its membership from the data dir.
if !FileManager.default.fileExists(atPath: config.dataDir + "/member/wal") {
    do { try config.validateBootstrap() } catch {
        FileHandle.standardError.write(Data((error.message + "\n").utf8))
        exit(error.exitCode)
    }
}

if let refusal = FeatureGate.refusal(for: config) {
    FileHandle.standardError.write(Data((refusal + "\n").utf8))
    exit(1)
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
let logger = Logger(label: "etcdserver")
for warning in config.warnings { logger.warning("\(warning)") }

let options: ServerOptions
do {
    options = try ServerOptionsMapping.options(from: config)
} catch {
    logger.critical("invalid configuration", metadata: ["error": "\(error)"])
    exit(1)
}

let server: EtcdServer
do {
    server = try EtcdServer(options: options, logger: logger)
    try await server.start()
} catch {
    logger.critical("failed to start etcd server", metadata: ["error": "\(error)"])
    FileHandle.standardError.write(Data("swift-etcd: \(error)\n".utf8))
    exit(1)
}

await SignalWaiter.waitForTermination()
logger.info("received signal; shutting down")
await server.stop()
logger.info("stopped")
exit(0)
