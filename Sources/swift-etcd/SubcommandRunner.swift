import Foundation

/// `swift-etcd <subcommand> …`: the etcdutl commands swift-etcd provides.
enum SubcommandRunner {
    static func run(_ name: String, _ arguments: [String]) -> Int32 {
        switch name {
        case "snapshot": return SnapshotCommandRunner.run(arguments)
        case "migrate": return SnapshotCommandRunner.runMigrate(arguments)
        case "defrag": return DefragCommandRunner.run(arguments)
        default:
            FileHandle.standardError.write(Data("swift-etcd: the '\(name)' subcommand is not built yet\n".utf8))
            return 2
        }
    }
}
