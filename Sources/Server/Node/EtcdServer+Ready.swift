import Config
import Foundation
import Logging

/// When a member is ready to serve clients, as etcd's `ReadyNotify`: its
/// own attributes were published through Raft (`publishAttributes`), it
/// knows a leader and has applied what was committed when it learned of it. Then it logs
/// etcd's lifecycle lines that scripts wait for, ending with
/// "ready to serve client requests", and starts accepting on the client
/// ports: until then clients' connections wait in the kernel's backlog, so
/// a restarted member never answers "no leader" to a balanced client.
extension EtcdServer {
    /// Watches for readiness in the background (started by `start()`).
    func watchReadiness() {
        if let version = ClusterVersion.load(from: store) {
            // etcd logs these as it recovers the version its store holds.
            let shown = ClusterVersion.majorMinor(version)
            logger.info("set initial cluster version", metadata: [
                "cluster-id": .id(clusterID), "local-member-id": .id(memberID), "cluster-version": .string(shown)])
            logger.info("enabled capabilities for version", metadata: ["cluster-version": .string(shown)])
        }
        Task.detached { [self] in
            var commitAtLeader: UInt64?
            while !stopping.isFired {
                let status = loop.status
                if status.leader != 0 && published.isFired {
                    let target = commitAtLeader ?? status.commitIndex
                    commitAtLeader = target
                    if status.appliedIndex >= target {
                        becameReady()
                        return
                    }
                } else {
                    commitAtLeader = nil
                }
                try? await Task.sleep(nanoseconds: 10_000_000)
            }
        }
    }

    /// Returns true once ready, false if `timeout` passed first (etcd's
    /// `--experimental-wait-cluster-ready-timeout`) or the member stopped.
    public func waitUntilReady(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if readiness.isFired { return true }
            if stopping.isFired { return false }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return readiness.isFired
    }

    private func becameReady() {
        let attributes = "{Name:\(options.name) ClientURLs:[\(options.advertiseClientURLs.joined(separator: " "))]}"
        logger.info("published local member to cluster through raft", metadata: [
            "local-member-id": .id(memberID), "local-member-attributes": .string(attributes),
            "request-path": .string("/0/members/\(String(memberID, radix: 16))/attributes"),
            "cluster-id": .id(clusterID), "publish-timeout": .duration(.nanoseconds(Int64(requestTimeoutSeconds * 1e9))),
        ])
        logger.info("ready to serve client requests")
        for listener in options.listenClient + options.listenClientHTTP {
            let address: Logger.MetadataValue = .string("\(listener.host):\(listener.port)")
            if listener.secure {
                logger.info("serving client traffic securely", metadata: ["address": address])
            } else {
                logger.info("serving client traffic insecurely; this is strongly discouraged!", metadata: ["address": address])
            }
        }
        readiness.fire()
        for server in grpcServers { server.startAccepting() }
    }
}
