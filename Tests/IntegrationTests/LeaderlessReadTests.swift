import Foundation
import Testing

/// A linearizable read on a member that knows no leader waits for one, as
/// etcd 3.5.1's does (its ReadIndex is retried until the request timeout):
/// with the other two members stopped it answers "etcdserver: request timed
/// out" (Unavailable) after the request timeout, not "no leader" at once;
/// issued while the others are down and served once a leader is elected.
@Suite(.serialized) struct LeaderlessReadTests {
    /// An empty-gRPC-framed RangeRequest for key "a" (linearizable).
    static func rangeBody() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("range-grpc-\(UUID().uuidString)")
        try Data([0, 0, 0, 0, 3, 0x0A, 1, UInt8(ascii: "a")]).write(to: url)
        return url
    }

    static func curlRange(_ m: ServerProcess, body: URL) -> [String] {
        ["-s", "-i", "--max-time", "120", "--http2-prior-knowledge", "-H", "content-type: application/grpc",
         "-H", "te: trailers", "--data-binary", "@\(body.path)", "\(m.clientURL)/etcdserverpb.KV/Range"]
    }

    /// Two members stopped: the survivor, once it knows no leader, keeps a
    /// read waiting until the request timeout; etcd's answer then.
    @Test func readWithoutALeaderTimesOutAsEtcd() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        let lonely = try cluster.startThenLeaveOneAlone()
        #expect(eventually { cluster.status(lonely)?.leader == 0 })
        let body = try Self.rangeBody()
        defer { try? FileManager.default.removeItem(at: body) }
        let answer = try ProcessRunner.run("curl", Self.curlRange(lonely, body: body))
        #expect(answer.stdout.contains("grpc-status: 14") && answer.stdout.contains("etcdserver: request timed out"),
                "\(answer.stdout)")
    }

    /// A read made while no leader is known is served once one is elected
    /// (a restarted member joins the survivor), not refused.
    @Test func readMadeDuringAnElectionIsServed() throws {
        let cluster = try ClusterTests.Cluster()
        defer { cluster.stop() }
        let lonely = try cluster.startThenLeaveOneAlone { first in
            let put = try etcdctl(first.endpoint, ["put", "a", "before"])
            #expect(put.exitCode == 0, "\(put.stderr)")
        }
        #expect(eventually { cluster.status(lonely)?.leader == 0 })
        let body = try Self.rangeBody()
        defer { try? FileManager.default.removeItem(at: body) }
        let read = try ProcessRunner.start("curl", Self.curlRange(lonely, body: body))
        usleep(1_000_000)
        try cluster.members[1].start()
        let answer = read.finish(timeoutSeconds: 150)
        #expect(answer.stdout.contains("grpc-status: 0") && answer.stdout.contains("before"), "\(answer.stdout)")
    }
}
