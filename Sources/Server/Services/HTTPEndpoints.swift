import Foundation
import GRPCWire

/// The HTTP/1.1 endpoints on the client port: `/version` and `/health`, as
/// etcd serves them.
struct HTTPEndpoints: Sendable {
    let server: EtcdServer

    func handle(method: String, path: String, query: String) async -> HTTP1Response {
        guard method == "GET" || method == "HEAD" else {
            return HTTP1Response(status: 405, contentType: "text/plain; charset=utf-8", text: "Method Not Allowed\n")
        }
        if server.options.enablePprof && path.hasPrefix(DebugEndpoints.prefix) {
            return DebugEndpoints.handle(path: path, query: query)
        }
        switch path {
        case "/version":
            return HTTP1Response(status: 200, text: "{\"etcdserver\":\"\(EtcdVersion.server)\",\"etcdcluster\":\"\(EtcdVersion.cluster)\"}")
        case "/health", "/livez", "/readyz":
            let serializable = query.contains("serializable=true")
            if path == "/health", let alarm = server.maintenance.alarms.get(.none).first {
                // etcd: any active alarm makes /health false.
                let name = AlarmStore.describe(alarm).split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? ""
                return HTTP1Response(status: 503, text: "{\"health\":\"false\",\"reason\":\"ALARM \(name)\"}")
            }
            let healthy = await isHealthy(serializable: serializable)
            let body = healthy ? "{\"health\":\"true\",\"reason\":\"\"}" : "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}"
            return HTTP1Response(status: healthy ? 200 : 503, text: body)
        case "/metrics":
            return HTTP1Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                 text: MetricsText.render(server))
        default:
            return .notFound
        }
    }

    /// Healthy when a leader is known and (unless serializable) a
    /// linearizable read goes through, as etcd's /health checks with a QGET.
    private func isHealthy(serializable: Bool) async -> Bool {
        guard server.loop.status.leader != 0 else { return false }
        if serializable { return true }
        do {
            try await server.linearizableBarrier()
            return true
        } catch {
            return false
        }
    }
}
