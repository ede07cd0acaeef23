import Foundation
import GRPCWire

/// `/metrics`: Prometheus text exposition (format 0.0.4) written by hand,
/// with etcd's metric names where the value exists here: leadership, Raft
/// progress, proposals, backend size and quota, version, and the process
/// metrics Prometheus clients export. Values are read when scraped.
struct MetricsText {
    private var out = ""

    mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        sample(name, help, "gauge", value, labels)
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        sample(name, help, "counter", value, labels)
    }

    private mutating func sample(_ name: String, _ help: String, _ type: String, _ value: Double, _ labels: [(String, String)]) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        let labelText = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        out += "\(name)\(labelText) \(Self.format(value))\n"
    }

    var text: String { out }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Integers without a fraction, as Go's client prints them.
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}

extension MetricsText {
    /// Everything `/metrics` reports for `server`.
    static func render(_ server: EtcdServer) -> String {
        var m = MetricsText()
        let status = server.loop.status
        m.gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", status.leader != 0 ? 1 : 0)
        m.gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", status.isLeader ? 1 : 0)
        m.gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", Double(status.commitIndex))
        m.gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", Double(status.appliedIndex))
        m.gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.",
                Double(server.applyWaits.lockedIDs().count))
        m.gauge("etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", 1,
                labels: [("server_id", String(server.memberID, radix: 16))])
        m.gauge("etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.", 1,
                labels: [("server_version", EtcdVersion.server)])
        m.gauge("etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version", 1,
                labels: [("cluster_version", String(EtcdVersion.cluster.split(separator: ".").prefix(2).joined(separator: ".")))])
        m.gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", Double(server.maintenance.quotaBytes))
        let alarms = server.maintenance.alarms.get(.none)
        m.gauge("etcd_server_alarms_active", "Alarms active in the cluster (swift-etcd).", Double(alarms.count))
        let size = Double(server.store.dbSizeBytes), inUse = Double(server.store.dbSizeInUseBytes)
        m.gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", size)
        m.gauge("etcd_debugging_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", size)
        m.gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", inUse)
        m.gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.", Double(server.store.currentRevision))
        m.gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", Double(max(server.store.compactRevision, 0)))
        ProcessMetrics.append(to: &m)
        return m.text
    }
}

/// The `process_*` metrics of the Prometheus Go client, from /proc/self.
enum ProcessMetrics {
    static func append(to m: inout MetricsText) {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
            let f = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
            func field(_ n: Int) -> Double { Double(f[n - 3]) ?? 0 }
            if f.count >= 22 {
                m.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (field(14) + field(15)) / ticks)
                m.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", field(23))
                m.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", field(24) * pageSize)
                if let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
                   let up = Double(uptime.split(separator: " ").first ?? "") {
                    let boot = Date().timeIntervalSince1970 - up
                    m.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                            (boot + field(22) / ticks).rounded())
                }
            }
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        m.gauge("process_open_fds", "Number of open file descriptors.", Double(fds))
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            m.gauge("process_max_fds", "Maximum number of open file descriptors.", Double(limit.rlim_cur))
        }
    }
}
