import Config
import Foundation
import Logging
import Server

/// `swift-etcd snapshot restore|status …` (etcdutl's commands for our
/// snapshot files): parses with Config's flag table, runs, returns the exit
/// status (0 ok, 1 failed, 2 usage).
enum SnapshotCommandRunner {
    static func run(_ arguments: [String]) -> Int32 {
        let command: SnapshotCommand
        do { command = try SnapshotCommand.parse(arguments) } catch {
            return fail(error.message, code: error.exitCode)
        }
        switch command {
        case .status(let file, let format):
            do {
                let status = try SnapshotStatus.read(file: file)
                guard let text = status.formatted(format) else {
                    return fail("swift-etcd: snapshot status: output format \"\(format)\" is not supported", code: 2)
                }
                FileHandle.standardOutput.write(Data(text.utf8))
                return 0
            } catch {
                return fail("Error: \(error)", code: 1)
            }
        case .restore(let file, let options):
            let logger = stderrLogger()
            do {
                _ = try SnapshotRestore(file: file, options: options, logger: logger).run()
                return 0
            } catch {
                return fail("Error: \(error)", code: 1)
            }
        }
    }

    /// `swift-etcd migrate …` (see `MigrateCommand`).
    static func runMigrate(_ arguments: [String]) -> Int32 {
        let command: MigrateCommand
        do { command = try MigrateCommand.parse(arguments) } catch {
            return fail(error.message, code: error.exitCode)
        }
        do {
            _ = try EtcdDataDirMigration(etcdDataDir: command.etcdDataDir, options: command.options, logger: stderrLogger()).run()
            return 0
        } catch {
            return fail("Error: \(error)", code: 1)
        }
    }

    private static func stderrLogger() -> Logger {
        if let output = try? JSONLogOutput(outputs: ["stderr"]) {
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: .info, output: output) }
        }
        return Logger(label: "etcdutl")
    }

    private static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return code
    }
}
