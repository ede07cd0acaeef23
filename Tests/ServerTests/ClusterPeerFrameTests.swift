import NIOCore
import Testing
@testable import Server

@Suite struct ClusterPeerFrameTests {
    @Test func clusterFramesRoundTrip() throws {
        let frames: [PeerFrame] = [
            .cluster(.membersRequest),
            .cluster(.membersAnswer(clusterID: 0xfeed, membersJSON: Array("[]".utf8))),
            .cluster(.promoteRequest(requestID: 7, memberID: 0xabc)),
            .cluster(.promoteAnswer(requestID: 7, code: 9, message: "etcdserver: member not found")),
            .cluster(.promoteAnswer(requestID: 8, code: 0, message: "")),
        ]
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        for f in frames { f.write(into: &buffer) }
        for f in frames { #expect(try PeerFrameDecoder.next(&buffer) == f) }
        #expect(buffer.readableBytes == 0)
    }

    @Test func joiningMemberFindsItselfByPeerURLs() throws {
        let cluster = DiscoveredCluster(clusterID: 5, members: [
            ClusterMember(id: 1, name: "a", peerURLs: ["http://a:2380"], clientURLs: []),
            ClusterMember(id: 2, name: "", peerURLs: ["http://b:2380"], clientURLs: [], learner: true),
        ])
        let me = try PeerDiscovery.localMember(in: cluster, initialCluster: [["http://b:2380"], ["http://a:2380"]],
                                               advertisePeerURLs: ["http://b:2380"])
        #expect(me.id == 2)
        #expect(throws: StartupError.self) {
            try PeerDiscovery.localMember(in: cluster, initialCluster: [["http://b:2380"]], advertisePeerURLs: ["http://b:2380"])
        }
        #expect(throws: StartupError.self) {
            try PeerDiscovery.localMember(in: cluster, initialCluster: [["http://b:2380"], ["http://c:2380"]],
                                          advertisePeerURLs: ["http://b:2380"])
        }
    }
}
