import GRPCWire
import NIOCore

/// go-grpc-prometheus's server metrics for one registered method. Every
/// hook is a relaxed atomic add; the handling-time histogram exists only
/// with `--metrics extensive`, as etcd enables it.
final class GRPCMethodMetrics: GRPCMethodProbe {
    /// "unary", "server_stream" or "bidi_stream" (grpc_type).
    let type: String
    let service: String
    let method: String
    let startedCount = MetricCounter()
    let receivedCount = MetricCounter()
    let sentCount = MetricCounter()
    /// Indexed by `GRPCStatus.Code.rawValue` (0...16).
    let handledCount: [MetricCounter] = (0...16).map { _ in MetricCounter() }
    let handling: MetricHistogram?

    init(type: String, service: String, method: String, extensive: Bool) {
        self.type = type
        self.service = service
        self.method = method
        handling = extensive ? MetricHistogram(upperBoundsSeconds: MetricHistogram.defaultBounds) : nil
    }

    func started() { startedCount.add() }
    func received() { receivedCount.add() }
    func sent() { sentCount.add() }

    func handled(_ code: GRPCStatus.Code, startedNanos: UInt64) {
        handledCount[code.rawValue].add()
        handling?.observe(nanoseconds: NIODeadline.now().uptimeNanoseconds &- startedNanos)
    }

    var labels: MetricsText.Labels { [("grpc_type", type), ("grpc_service", service), ("grpc_method", method)] }
}

/// The `grpc_server_*` families for every method on the router.
final class GRPCMetrics: @unchecked Sendable {
    let extensive: Bool
    /// Filled once by `install`, before serving; read-only afterwards.
    private var methods: [GRPCMethodMetrics] = []

    init(extensive: Bool) { self.extensive = extensive }

    /// grpc-go's code names, as the grpc_code label spells them.
    static let codeNames = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
                            "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
                            "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"]

    /// Attaches a probe to every registered method; call after all services registered.
    func install(on router: GRPCRouter) {
        for path in router.paths {
            let type: String
            switch router.handler(for: path) {
            case .unary?: type = "unary"
            case .serverStreaming?: type = "server_stream"
            case .bidi?: type = "bidi_stream"
            case nil: continue
            }
            // "/etcdserverpb.KV/Range" → service "etcdserverpb.KV", method "Range".
            let parts = path.split(separator: "/")
            guard parts.count == 2 else { continue }
            let m = GRPCMethodMetrics(type: type, service: String(parts[0]), method: String(parts[1]), extensive: extensive)
            router.setProbe(m, for: path)
            methods.append(m)
        }
    }

    func append(to text: inout MetricsText) {
        text.family("grpc_server_started_total", "Total number of RPCs started on the server.", .counter,
                    methods.map { ($0.labels, Double($0.startedCount.count)) })
        text.family("grpc_server_msg_received_total", "Total number of RPC stream messages received on the server.", .counter,
                    methods.map { ($0.labels, Double($0.receivedCount.count)) })
        text.family("grpc_server_msg_sent_total", "Total number of gRPC stream messages sent by the server.", .counter,
                    methods.map { ($0.labels, Double($0.sentCount.count)) })
        var handled: [(MetricsText.Labels, Double)] = []
        for m in methods {
            for (code, counter) in m.handledCount.enumerated() {
                handled.append((m.labels + [("grpc_code", Self.codeNames[code])], Double(counter.count)))
            }
        }
        text.family("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.",
                    .counter, handled)
        if extensive {
            text.histogram("grpc_server_handling_seconds",
                           "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
                           bounds: MetricHistogram.defaultBounds,
                           methods.compactMap { m in m.handling.map { (m.labels, $0.snapshot()) } })
        }
    }
}
