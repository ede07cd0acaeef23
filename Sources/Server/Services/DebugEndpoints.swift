import Foundation
import GRPCWire

/// `/debug/pprof/` for `--enable-pprof`. etcd serves Go's runtime profiles
/// there; swift-etcd is not a Go program, so it serves what this process can
/// say about itself in the same places, as text (`?debug=1` style):
/// the command line, its threads (`goroutine`, `threadcreate`) and memory
/// (`heap`, `allocs`). Sampled CPU and trace profiles answer 501 with what to
/// use instead (perf, valgrind), so `go tool pprof` fails clearly rather than
/// parsing something it does not understand.
enum DebugEndpoints {
    static let prefix = "/debug/pprof"

    static func handle(path: String, query: String, procRoot: String = "/proc/self") -> HTTP1Response {
        let name = path.dropFirst(prefix.count).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        switch name {
        case "":
            return text(index)
        case "cmdline":
            return text(CommandLine.arguments.joined(separator: "\0"))
        case "goroutine", "threadcreate":
            return text(threads(procRoot: procRoot))
        case "heap", "allocs":
            return text(memory(procRoot: procRoot))
        case "profile", "trace", "symbol", "block", "mutex":
            return HTTP1Response(status: 501, contentType: "text/plain; charset=utf-8", text: """
                \(name): a Go runtime profile; swift-etcd is not a Go program. Profile it with \
                `perf record -g -p \(getpid())` or valgrind instead.

                """)
        default:
            return HTTP1Response(status: 404, contentType: "text/plain; charset=utf-8", text: "Unknown profile\n")
        }
    }

    private static let index = """
        /debug/pprof/ (swift-etcd: process snapshots as text; Go CPU, trace and block profiles do not exist here)

        cmdline       the command line, NUL-separated
        goroutine     the process's threads with their names and states
        threadcreate  the same
        heap          memory use (resident, peak, virtual) from /proc
        allocs        the same

        """

    private static func text(_ s: String) -> HTTP1Response {
        HTTP1Response(status: 200, contentType: "text/plain; charset=utf-8", text: s)
    }

    /// One line per thread: id, state (from stat) and name (comm).
    static func threads(procRoot: String) -> String {
        let taskDir = procRoot + "/task"
        let ids = ((try? FileManager.default.contentsOfDirectory(atPath: taskDir)) ?? []).compactMap(Int.init).sorted()
        var out = "threads: \(ids.count)\n\n"
        for id in ids {
            let comm = read("\(taskDir)/\(id)/comm").trimmingCharacters(in: .whitespacesAndNewlines)
            out += "thread \(id) [\(threadState(read("\(taskDir)/\(id)/stat")))]: \(comm)\n"
        }
        return out
    }

    /// The state letter of a /proc stat line (the field after "(comm)").
    static func threadState(_ stat: String) -> String {
        guard let close = stat.lastIndex(of: ")") else { return "?" }
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        switch rest.first {
        case "R": return "running"
        case "S": return "sleeping"
        case "D": return "disk wait"
        case "Z": return "zombie"
        case "T", "t": return "stopped"
        case let s?: return String(s)
        case nil: return "?"
        }
    }

    /// The memory lines of /proc/self/status, in bytes.
    static func memory(procRoot: String) -> String {
        var out = "# memory of process \(getpid())\n"
        for line in read(procRoot + "/status").split(separator: "\n") where line.hasPrefix("Vm") || line.hasPrefix("Rss") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
            out += "# \(parts[0]) = \(kb * 1024)\n"
        }
        return out
    }

    private static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
