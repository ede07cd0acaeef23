/// `--help` output, laid out as a man page (the installed man page is this
/// text): NAME, SYNOPSIS, DESCRIPTION, then etcd's flag groups in etcd's
/// order with their defaults, then ENVIRONMENT, SIGNALS, FILES, EXIT STATUS.
public func serverHelpText() -> String {
    var out = """
        NAME
          swift-etcd - an etcd v3-compatible, Raft-replicated key-value store

        SYNOPSIS
          swift-etcd [flags]
            Start an etcd-compatible server.

          swift-etcd --version
            Show the version of swift-etcd, the etcd API it speaks and the commit it was built from.

          swift-etcd -h | --help
            Show the help information about swift-etcd.

          swift-etcd --config-file
            Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.

          swift-etcd snapshot restore|status FILE [flags]
            Restore or inspect a snapshot file, as etcdutl does.

          swift-etcd defrag --data-dir DIR
            Defragment the store of a stopped member, as etcdutl does; refuses a data dir in use.

        DESCRIPTION
          swift-etcd serves etcd's v3 gRPC API (etcdctl, clientv3, Kubernetes use it unchanged) and
          replicates writes with Raft between the members named by --initial-cluster.
          Flags marked [not yet] are accepted, but setting them to anything but their default refuses
          start-up; flags marked [only 'X'] tune etcd's bbolt store, which swift-etcd does not have
          (it stores data in LMDB): etcd's default X is accepted, any other value refuses start-up;
          flags marked [no effect] are accepted with a warning.

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
    out += """

        ENVIRONMENT
          ETCD_<FLAG>     Every flag can be set by its ETCD_* variable (e.g. ETCD_LISTEN_CLIENT_URLS);
                          a flag on the command line wins.
          ETCD_CONFIG_FILE
                          Same as --config-file.
          NOTIFY_SOCKET   Set by systemd for Type=notify units: READY=1 is sent once the member serves
                          clients (or after --experimental-wait-cluster-ready-timeout), STOPPING=1 on stop.

        SIGNALS
          SIGTERM, SIGINT A graceful stop, bounded by the request timeout (5s + 2 x election timeout):
                          a leader first hands leadership to its most up-to-date follower, open streams
                          end, in-flight requests finish or fail, the store is synced and closed.
                          A second signal exits at once.

        FILES
          <data-dir>/member/snap/db    the key-value store (LMDB)
          <data-dir>/member/wal        the Raft write-ahead log (or --wal-dir)
          <data-dir>/member/snap       Raft snapshots

        EXIT STATUS
          0 after a graceful stop, 1 when the configuration or start-up fails, 2 for a usage error,
          128 + the signal number after a second signal.

        SEE ALSO
          etcdctl(1), etcdutl(1)

        """
    return out
}

/// One flag's entry: `  --name 'default'` then the indented help.
public func flagHelp(_ spec: FlagSpec) -> String {
    var line = "  --\(spec.name) '\(spec.helpDefault ?? spec.defaultValue)'"
    switch spec.support {
    case .supported: break
    case .notYet(let feature): line += " [not yet: \(feature)]"
    case .defaultOnly(let why): line += " [only '\(spec.defaultValue)': \(why)]"
    case .ignored(let why): line += " [no effect: \(why)]"
    }
    var out = line + "\n"
    for helpLine in spec.help.split(separator: "\n", omittingEmptySubsequences: false) {
        out += "    \(helpLine)\n"
    }
    return out
}
