import Config

/// Start-up refusals for settings the Config module accepts but this build
/// cannot honour: refusing is better than an operator finding out later.
enum FeatureGate {
    static func refusal(for config: EtcdConfig) -> String? {
        // The metrics listener is plain HTTP; etcd would serve https with the client TLS files.
        if let secure = config.listenMetricsURLs.first(where: { $0.isSecure }) {
            return "swift-etcd: --listen-metrics-urls \(secure.string) is not supported yet (TLS is not built); refusing to start rather than ignore it"
        }
        return nil
    }
}
