import Foundation

extension ServerProcess {
    /// Watch responses this member has sent (grpc_server_msg_sent_total of
    /// etcdserverpb.Watch/Watch). A watch's "created" answer goes out only
    /// after its watcher is registered, so once this rises a new watch sees
    /// every later write.
    func watchResponsesSent() throws -> Double {
        try MetricsTests.scrape(clientURL).samples
            .filter { $0.key.hasPrefix("grpc_server_msg_sent_total{") && $0.key.contains("grpc_method=\"Watch\"") }
            .reduce(0) { $0 + $1.value }
    }

    /// Starts `etcdctl watch ARGS` on this member and returns once the member
    /// has answered it (the watch is created); a fixed sleep here lost events
    /// whenever etcdctl started slowly on a loaded machine. Nothing else may
    /// watch this member meanwhile. Throws when no answer comes (a hang).
    func startEtcdctlWatch(_ args: [String], seconds: Double = 90) throws -> RunningCommand {
        let before = try watchResponsesSent()
        let watch = try ProcessRunner.start("etcdctl", ["--endpoints", endpoint, "watch"] + args, environment: ["ETCDCTL_API": "3"])
        let deadline = Date().addingTimeInterval(seconds)
        while try watchResponsesSent() <= before {
            guard Date() < deadline else {
                let r = watch.finish(timeoutSeconds: 0)
                throw TestSetupError("etcdctl watch \(args) never created: \(r.stdout) \(r.stderr)")
            }
            usleep(20_000)
        }
        return watch
    }
}
