import Foundation
import Logging
import Server

// Interim flag handling until the Config module lands.
var options = ServerOptions()
var args = Array(CommandLine.arguments.dropFirst())
var i = 0
func url(_ s: String) -> ServerOptions.Listener {
    let u = URL(string: s)!
    return .init(host: u.host ?? "127.0.0.1", port: u.port ?? 2379)
}
while i < args.count {
    let a = args[i].replacingOccurrences(of: "--", with: "")
    let v = i + 1 < args.count ? args[i + 1] : ""
    switch a {
    case "name": options.name = v
    case "data-dir": options.dataDir = v
    case "listen-client-urls": options.listenClient = v.split(separator: ",").map { url(String($0)) }
    case "initial-advertise-peer-urls": options.initialAdvertisePeerURLs = v.split(separator: ",").map(String.init)
    case "initial-cluster":
        options.initialCluster = v.split(separator: ",").map { p in
            let kv = p.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), [String(kv[1])])
        }
    default: break
    }
    i += 2
}
LoggingSystem.bootstrap { label in
    JSONLogHandler(label: label, level: .info, output: try! JSONLogOutput(outputs: ["stderr"]))
}
let logger = Logger(label: "etcdserver")
do {
    let server = try EtcdServer(options: options, logger: logger)
    try await server.start()
    while true { try await Task.sleep(for: .seconds(3600)) }
} catch {
    logger.critical("failed to start", metadata: ["error": "\(error)"])
    exit(1)
}
