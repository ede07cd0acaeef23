import Foundation

/// The `process_*` metrics of the Prometheus Go client, read from /proc/self
/// when scraped.
enum ProcessMetrics {
    static func append(to m: inout MetricsText) {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
            let f = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
            func field(_ n: Int) -> Double { n - 3 < f.count ? Double(f[n - 3]) ?? 0 : 0 }
            if f.count >= 22 {
                m.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (field(14) + field(15)) / ticks)
                m.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", field(23))
                m.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", field(24) * pageSize)
                if let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
                   let up = Double(uptime.split(separator: " ").first ?? "") {
                    let boot = Date().timeIntervalSince1970 - up
                    m.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                            ((boot + field(22) / ticks) * 100).rounded() / 100)
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
