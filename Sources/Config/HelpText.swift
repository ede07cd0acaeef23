/// `--help` output in etcd's layout: usage lines, then each group's flags
/// with their defaults, then a note on which flags swift-etcd lacks.
public func serverHelpText() -> String {
    var out = """
        Usage:

          swift-etcd [flags]
            Start an etcd-compatible server.

          swift-etcd --version
            Show the version of swift-etcd.

          swift-etcd -h | --help
            Show the help information about swift-etcd.

          swift-etcd --config-file
            Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.

          swift-etcd snapshot restore|status FILE [flags]
            Restore or inspect a snapshot file, as etcdutl does.

        Every flag can also be set with an ETCD_* environment variable (e.g. ETCD_LISTEN_CLIENT_URLS); a flag on the command line wins.
        Flags marked [not yet] are accepted, but setting them to anything but their default refuses start-up.

        """
    for group in HelpGroup.allCases where group != .hidden {
        out += "\n\(group.rawValue):\n"
        for spec in EtcdServerFlags.all where spec.group == group {
            out += flagHelp(spec)
        }
        if group == .unsafe {
            out += "\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n"
        }
    }
    return out
}

/// One flag's entry: `  --name 'default'` then the indented help.
public func flagHelp(_ spec: FlagSpec) -> String {
    var line = "  --\(spec.name) '\(spec.helpDefault ?? spec.defaultValue)'"
    switch spec.support {
    case .supported: break
    case .notYet(let feature): line += " [not yet: \(feature)]"
    case .ignored(let why): line += " [no effect: \(why)]"
    }
    var out = line + "\n"
    for helpLine in spec.help.split(separator: "\n", omittingEmptySubsequences: false) {
        out += "    \(helpLine)\n"
    }
    return out
}
