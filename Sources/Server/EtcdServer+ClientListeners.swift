import GRPCWire
import NIOCore

extension EtcdServer {
    /// A client listener's limits from etcd's flags (the TLS layer and
    /// which protocols it serves are set by the caller).
    func clientListenerConfig(_ listener: ServerOptions.Listener) -> GRPCServerConfig {
        var config = GRPCServerConfig(host: listener.host, port: listener.port)
        config.maxRequestBytes = options.maxRequestBytes
        config.maxReceiveBytes = options.maxRequestBytes + 512 * 1024
        config.maxHTTP1BodyBytes = 2 * config.maxReceiveBytes
        config.maxConcurrentStreams = options.maxConcurrentStreams
        config.keepaliveMinTime = .milliseconds(Int64(options.grpcKeepaliveMinTimeMs))
        config.keepaliveInterval = .milliseconds(Int64(options.grpcKeepaliveIntervalMs))
        config.keepaliveTimeout = .milliseconds(Int64(options.grpcKeepaliveTimeoutMs))
        config.deadlineGrace = Self.deadlineGrace
        config.reusePort = options.socketReusePort  // --socket-reuse-port
        return config
    }
}
