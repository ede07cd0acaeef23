import Foundation
import Proto
import Testing

/// Maintenance.Downgrade (raw gRPC through nghttp) against swift-etcd and
/// etcd 3.5.1: the same codes and messages for bad targets, a cancel with
/// nothing to cancel, an unknown action and a job in progress; the state
/// persists, and a member restarted while it is enabled refuses to start as
/// etcd 3.5.1 does. (etcd 3.5.1 applies ENABLE and CANCEL but never answers
/// them; its ENABLE is sent with a short timeout.)
@Suite struct DowngradeTests {
    static func call(_ server: ServerProcess, _ action: Int32, _ version: String, timeout: Double = 20) throws -> RawGRPCResult {
        var request = Etcdserverpb.DowngradeRequest()
        request.action = Etcdserverpb.DowngradeRequest.DowngradeAction(rawValue: action)
        request.version = version
        return try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.Maintenance/Downgrade",
                                message: request.serializedBytes(), timeoutSeconds: timeout)
    }

    static func answer(_ r: RawGRPCResult) -> String {
        let version = r.messages.first.flatMap { try? Etcdserverpb.DowngradeResponse(serializedBytes: $0) }?.version ?? "-"
        return "\(r.grpcStatus ?? -1) \(r.grpcMessage ?? "") \(r.grpcStatus == 0 ? version : "")"
    }

    @Test func downgradeAnswersAsEtcd351AndBlocksRestart() throws {
        try withOursAndReference { ours, reference in
            // VALIDATE "", "3.5", "3.4"; CANCEL with no job; an unknown action.
            let steps: [(Int32, String)] = [(0, ""), (0, "3.5"), (0, "3.4"), (2, ""), (7, "3.4")]
            for (action, version) in steps {
                let expected = Self.answer(try Self.call(reference, action, version))
                #expect(Self.answer(try Self.call(ours, action, version)) == expected, "\(action) \(version)")
            }
            #expect(Self.answer(try Self.call(ours, 1, "3.4.9")) == "0  3.5.0")
            _ = try Self.call(reference, 1, "3.4.9", timeout: 2)
            for (action, version) in [(0, "3.4"), (1, "3.4")] as [(Int32, String)] {
                let expected = Self.answer(try Self.call(reference, action, version))
                #expect(expected.contains("downgrade job in progress"), "\(expected)")
                #expect(Self.answer(try Self.call(ours, action, version)) == expected, "\(action) \(version)")
            }
            let version = try ProcessRunner.run("curl", ["-s", ours.clientURL + "/version"]).stdout
            #expect(version.contains(#""etcdcluster":"3.5.0""#), "\(version)")
            #expect(Self.answer(try Self.call(ours, 2, "")) == "0  3.5.0")
            #expect(Self.answer(try Self.call(ours, 2, "")).contains("no inflight downgrade job"))
            #expect(Self.answer(try Self.call(ours, 1, "3.4")) == "0  3.5.0")
            ours.stopTimed()
            #expect(throws: (any Error).self) { try ours.start(timeoutSeconds: 10) }
            #expect(ours.log.contains("server version is not allowed to join when downgrade is enabled"), "\(ours.logTail())")
            // etcd 3.5.1 lowers the cluster version only once every member runs
            // the target release; seconds after ENABLE it still answers 3.5.0.
            let referenceVersion = try ProcessRunner.run("curl", ["-s", reference.clientURL + "/version"]).stdout
            #expect(referenceVersion.contains(#""etcdcluster":"3.5.0""#), "\(referenceVersion)")
        }
    }
}
