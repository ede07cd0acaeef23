import Foundation
import Logging
import NIOPosix
import Testing
@testable import Server

/// The corruption checks' HashKV requests to peers (`PeerNetwork.hashKV`).
@Suite struct PeerHashRequestTests {
    /// Requests to a peer that never answers each fail with etcd's timeout.
    /// The resender that sends a request and enforces its deadline starts
    /// only once the wait is registered: started before, it could run first
    /// on an idle thread, find nothing registered, exit without sending, and
    /// leave the wait with no answer and no deadline for good. That hung
    /// about one request in 15 (a leader's compaction hash check then never
    /// finished, so a corrupted follower was never alarmed); one at a time,
    /// as here, 200 requests hit it every time before the fix.
    @Test func requestsToASilentPeerTimeOut() async throws {
        let logger = Logger(label: "peer-hash-test")
        let dir = NSTemporaryDirectory() + "peer-hash-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Member 2 is not in the membership: nothing is ever sent to it, nothing answers.
        let me = [ClusterMember(id: 1, name: "a", peerURLs: ["http://127.0.0.1:20001"], clientURLs: [])]
        let network = try PeerNetwork(localID: 1, clusterID: 99, membership: Membership(members: me, path: "\(dir)/1.json", logger: logger),
                                      attributes: MemberAttributes(name: "a", clientURLs: []), snapDir: dir, group: loops, logger: logger)
        let requests = 200
        let timedOut = await withTaskGroup(of: Int?.self) { race -> Int? in
            race.addTask {
                var n = 0
                for _ in 0..<requests {
                    do { _ = try await network.hashKV(of: 2, revision: 1, timeoutSeconds: 0.001) } catch {
                        if error as? ServerError == .timeout { n += 1 }
                    }
                }
                return n
            }
            // Bounds a hang (the stuck request is then cancelled), not speed.
            race.addTask { try? await Task.sleep(for: .seconds(90)); return nil }
            let first = await race.next() ?? nil
            race.cancelAll()
            return first
        }
        #expect(timedOut == requests, "of \(requests) requests, timed out: \(timedOut.map(String.init) ?? "none; one hung")")
        #expect(network.probes.hashWaits.count == 0)
        try await loops.shutdownGracefully()
    }
}
