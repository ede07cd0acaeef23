import Config
import Foundation
import Logging
import Server

/// `swift-etcd defrag --data-dir DIR`: etcdutl's offline defrag. Logs as
/// etcdutl does (zap console lines on stderr); exit 0 done, 1 failed or
/// refused (data dir in use), 2 usage.
enum DefragCommandRunner {
    static func run(_ arguments: [String]) -> Int32 {
        let command: DefragCommand
        do { command = try DefragCommand.parse(arguments) } catch {
            if error.exitCode == 0 {
                FileHandle.standardOutput.write(Data(error.message.utf8))
                return 0
            }
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            return error.exitCode
        }
        if let output = try? JSONLogOutput(outputs: ["stderr"]) {
            LoggingSystem.bootstrap { ZapLogHandler(label: $0, level: .info, output: output, format: .console) }
        }
        do {
            try OfflineDefrag.run(dataDir: command.dataDir, logger: Logger(label: "etcdutl"))
            return 0
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            return 1
        }
    }
}
