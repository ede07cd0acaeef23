/// `swift-etcd defrag --data-dir DIR` (etcdutl 3.5's `defrag`): the one
/// flag, parsed with the server's flag machinery.
public struct DefragCommand: Sendable, Equatable {
    public var dataDir: String

    static let flags: [FlagSpec] = [
        FlagSpec("data-dir", .string, default: "", group: .member,
                 help: "Required. Defragments a data directory not in use by etcd."),
    ]

    public static let usage = """
        Usage:
          swift-etcd defrag [flags]

        Flags:
              --data-dir string   Required. Defragments a data directory not in use by etcd.
          -h, --help              help for defrag

        """

    /// Parses the arguments after `defrag`; etcdutl's errors (exit 1 for a
    /// missing --data-dir, 2 for a malformed flag).
    public static func parse(_ args: [String]) throws(CommandLineError) -> DefragCommand {
        let parsed: FlagParser.Parsed
        do { parsed = try FlagParser(flags, interspersed: true).parse(args) } catch {
            throw .usage("Error: \(error.message)\n" + usage)
        }
        if parsed.helpRequested { throw CommandLineError(message: usage, exitCode: 0) }
        if let extra = parsed.remaining.first { throw .usage("Error: unknown command \"\(extra)\" for \"swift-etcd defrag\"\n" + usage) }
        guard let dir = parsed.values["data-dir"]?.stringValue, !dir.isEmpty else {
            throw .invalid("Error: required flag(s) \"data-dir\" not set\n" + usage)
        }
        return DefragCommand(dataDir: dir)
    }
}
