import Config
import Foundation
import GRPCWire

/// The HTTP/1.1 endpoints etcd 3.5 serves on the client port (`/version`,
/// `/metrics`, `/health`, `/livez`, `/readyz`) and on `--listen-metrics-urls`
/// (all but `/version`).
struct HTTPEndpoints: Sendable {
    let server: EtcdServer
    /// The metrics listener serves only /metrics and the health checks.
    var metricsListener = false

    func handle(method: String, path: String, query: String) async -> HTTP1Response {
        if server.options.enablePprof && !metricsListener && path.hasPrefix(DebugEndpoints.prefix) {
            guard method == "GET" || method == "HEAD" else { return Self.methodNotAllowed }
            return DebugEndpoints.handle(path: path, query: query)
        }
        switch path {
        case "/version" where !metricsListener:
            guard method == "GET" || method == "HEAD" else { return Self.methodNotAllowed }
            // etcd answers "not_decided" until the leader set the cluster version.
            let cluster = ClusterVersion.load(from: server.store) ?? "not_decided"
            return HTTP1Response(status: 200, text: "{\"etcdserver\":\"\(SwiftEtcdVersion.etcdCompatible)\",\"etcdcluster\":\"\(cluster)\"}")
        case "/metrics":
            return HTTP1Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                 text: server.metrics.render(server))
        case "/health", "/livez", "/readyz":
            guard method == "GET" else { return Self.methodNotAllowed }
            let q = HealthQuery(query)
            let check = HealthCheck(server: server)
            let status: HealthStatus
            switch path {
            case "/health": status = await check.health(excluded: q.excluded, serializable: q.serializable)
            case "/livez": status = await check.livez(excluded: q.excluded, serializable: q.serializable)
            default: status = await check.readyz(excluded: q.excluded, serializable: q.serializable)
            }
            (status.isHealthy ? server.metrics.healthSuccess : server.metrics.healthFailures).add()
            // Go's http.Error adds a newline to the failure body; success has none.
            return HTTP1Response(status: status.isHealthy ? 200 : 503, contentType: "text/plain; charset=utf-8",
                                 text: status.json + (status.isHealthy ? "" : "\n"))
        default:
            return .notFound
        }
    }

    static let methodNotAllowed = HTTP1Response(status: 405, contentType: "text/plain; charset=utf-8", text: "Method Not Allowed\n")
}

/// `?serializable=true` and `?exclude=NOSPACE&exclude=…` of a health request.
struct HealthQuery: Equatable {
    var serializable = false
    var excluded: Set<String> = []

    init(_ query: String) {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]), value = kv.count > 1 ? String(kv[1]) : ""
            if key == "serializable" { serializable = value == "true" }
            if key == "exclude" && !value.isEmpty { excluded.insert(value) }
        }
    }
}

/// etcd's health answer: `{"health":"true","reason":""}`.
struct HealthStatus: Equatable {
    var isHealthy: Bool
    var reason: String

    static let ok = HealthStatus(isHealthy: true, reason: "")

    var json: String {
        let escaped = reason.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "{\"health\":\"\(isHealthy)\",\"reason\":\"\(escaped)\"}"
    }
}

/// etcd 3.5's checks (etcdhttp/health.go): `/health` = alarms, leader,
/// a Range; `/livez` = alarms except NOSPACE, a Range; `/readyz` = alarms,
/// a Range. The Range is linearizable unless `serializable`.
struct HealthCheck {
    let server: EtcdServer

    func health(excluded: Set<String>, serializable: Bool) async -> HealthStatus {
        if let failed = alarms(excluded: excluded) { return failed }
        if !serializable && server.loop.status.leader == 0 { return HealthStatus(isHealthy: false, reason: "RAFT NO LEADER") }
        return await range(serializable: serializable)
    }

    func livez(excluded: Set<String>, serializable: Bool) async -> HealthStatus {
        if let failed = alarms(excluded: excluded.union(["NOSPACE"])) { return failed }
        return await range(serializable: serializable)
    }

    func readyz(excluded: Set<String>, serializable: Bool) async -> HealthStatus {
        if let failed = alarms(excluded: excluded) { return failed }
        return await range(serializable: serializable)
    }

    private func alarms(excluded: Set<String>) -> HealthStatus? {
        for alarm in server.alarms.get(.none) {
            let name: String
            switch alarm.alarm {
            case .nospace: name = "NOSPACE"
            case .corrupt: name = "CORRUPT"
            default: name = "UNKNOWN"
            }
            if excluded.contains(name) { continue }
            return HealthStatus(isHealthy: false, reason: "ALARM \(name)")
        }
        return nil
    }

    /// A serializable read always works on a running member; a linearizable
    /// one needs the leader's confirmation (etcd's QGET of one key).
    private func range(serializable: Bool) async -> HealthStatus {
        if serializable { return .ok }
        do {
            try await server.linearizableBarrier()
            return .ok
        } catch {
            return HealthStatus(isHealthy: false, reason: "RANGE ERROR:\(error)")
        }
    }
}

extension EtcdServer {
    /// `--listen-metrics-urls`: an HTTP listener per URL answering only
    /// /metrics and the health checks (gRPC calls find no service there).
    func startMetricsListeners() async throws {
        guard !options.listenMetrics.isEmpty else { return }
        let http = HTTPEndpoints(server: self, metricsListener: true)
        for listener in options.listenMetrics {
            var config = GRPCServerConfig(host: listener.host, port: listener.port)
            config.reusePort = options.socketReusePort
            if listener.secure {
                // etcd serves https metrics with the client certificates.
                config.connectionInitializer = tls.clientListener(.httpOnly, metrics: true).map { side in { side.initialize($0) } }
            }
            let server = GRPCServer(config: config, router: GRPCRouter(),
                                    http1: { method, path, query in await http.handle(method: method, path: path, query: query) },
                                    group: group, logger: logger)
            let port: Int
            do { port = try await server.start() } catch { throw PeerPortProbe.describe(error, listener) }
            grpcServers.append(server)
            logger.info("serving metrics", metadata: ["address": "\(listener.secure ? "https" : "http")://\(listener.host):\(port)"])
        }
    }
}
