import Foundation
import Testing

/// The systemd unit is Type=notify (contrib/systemd/swift-etcd.service):
/// the member sends READY=1 on $NOTIFY_SOCKET once it serves clients and
/// STOPPING=1 when a stop begins, as etcd does. These tests play systemd.
@Suite("systemd notify", .serialized)
struct SystemdNotifyTests {
    @Test func readyWhenServingAndStoppingOnSIGTERM() throws {
        let notify = try NotifySocket()
        let server = try ServerProcess()
        server.environment = ["NOTIFY_SOCKET": notify.path]
        try server.start()
        defer { server.stop(); server.removeData() }
        let ready = notify.receive(seconds: 20)
        #expect(ready == "READY=1", "\(server.logTail())")
        // READY=1 promises a member that answers: a write goes through at once.
        let put = try etcdctl(server.endpoint, ["put", "k", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        #expect(server.log.contains("\"msg\":\"ready to serve client requests\""))
        let stopped = server.stopTimed(signal: SIGTERM)
        #expect(notify.receive(seconds: 5) == "STOPPING=1")
        // As etcd 3.5.1: the graceful stop ends by the signal it got (systemd
        // counts SIGTERM as a clean exit).
        #expect(stopped.killedBySignal && stopped.status == SIGTERM, "exit \(stopped.status): \(server.logTail())")
    }

    /// Without a quorum a member is not ready; etcd still tells systemd it
    /// started once `--experimental-wait-cluster-ready-timeout` passed, so
    /// the unit does not time out while its peers are still coming up.
    @Test func waitClusterReadyTimeoutBoundsTheWaitForQuorum() throws {
        let names = ["m1", "m2", "m3"]
        let ports = names.map { _ in (client: freePort(), peer: freePort()) }
        let initial = zip(names, ports).map { "\($0)=http://127.0.0.1:\($1.peer)" }.joined(separator: ",")
        let notify = try NotifySocket()
        let lonely = try ServerProcess(name: "m1", extraArgs: ["--experimental-wait-cluster-ready-timeout", "2s"],
                                       clientPort: ports[0].client, peerPort: ports[0].peer, initialCluster: initial)
        lonely.environment = ["NOTIFY_SOCKET": notify.path]
        try lonely.start()
        defer { lonely.stop(); lonely.removeData() }
        #expect(notify.receive(seconds: 20) == "READY=1", "\(lonely.logTail())")
        let log = lonely.log
        #expect(log.contains("startEtcd: timed out waiting for the ready notification"))
        #expect(!log.contains("\"msg\":\"ready to serve client requests\""))
    }
}
