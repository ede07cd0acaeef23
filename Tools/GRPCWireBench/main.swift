// A GRPCWire test server for h2load (scripts/bench-wire.sh) and manual checks:
//   grpc-wire-bench [port]   serves /bench.Echo/Unary (echo), /bench.Echo/Stream
//   (server-streaming: N = first byte of the request, echoes N times), /bench.Echo/Bidi,
//   and GET /version on HTTP/1.1.
#if canImport(Glibc)
import Glibc
#endif
import GRPCWire
import Logging
import NIOCore
import NIOPosix

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 0 : 0
var logger = Logger(label: "grpc-wire-bench")
logger.logLevel = .warning

let router = GRPCRouter()
router.unary("/bench.Echo/Unary") { request, _ in request }
router.serverStreaming("/bench.Echo/Stream") { request, _, writer in
    for _ in 0..<Int(request.first ?? 1) { try await writer.send(request) }
}
router.bidi("/bench.Echo/Bidi") { requests, writer, _ in
    for try await message in requests { try await writer.send(message) }
}

var config = GRPCServerConfig(host: "127.0.0.1", port: port)
config.maxConcurrentStreams = 1000
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let server = GRPCServer(config: config, router: router, http1: { _, path, _ in
    path == "/version" ? HTTP1Response(status: 200, text: "{\"etcdserver\":\"3.5.0\",\"etcdcluster\":\"3.5.0\"}")
        : .notFound
}, group: group, logger: logger)
let bound = try await server.start()
print("listening on \(bound)")
fflush(stdout)
while true { try await Task.sleep(for: .seconds(3600)) }
