import Foundation
import Raft
import Testing
@testable import Server

/// What the peer port takes from strangers and from forged members
/// (scripts/fuzz/peer_fuzz.py drives all of it against a real cluster).
@Suite struct HostilePeerInputTests {
    /// Request IDs are the asker's: a flood of fresh ones would queue a
    /// whole-store scan each. Two run per peer at most; the asker resends.
    @Test func hashScansPerPeerAreBounded() {
        let probes = PeerProbes()
        #expect(probes.beginAnswer(5, 1))
        #expect(probes.beginAnswer(5, 2))
        #expect(!probes.beginAnswer(5, 3))
        #expect(probes.beginAnswer(6, 1))
        probes.endAnswer(5, 1)
        #expect(probes.beginAnswer(5, 3))
        #expect(!probes.beginAnswer(5, 2))  // still running
    }

    /// A transfer whose MsgSnap the Raft loop could not install (fatal there)
    /// is refused at its begin frame.
    @Test func snapshotsThatCannotBeInstalledAreRefused() throws {
        func snap(voters: [UInt64], data: [UInt8]) -> Message {
            var s = Snapshot(metadata: SnapshotMetadata(index: 10, term: 2), data: data)
            s.metadata.confState = ConfState(voters: voters, learners: [])
            return Message(type: .snap, to: 2, from: 1, term: 2, snapshot: s)
        }
        let extras = try SnapshotExtras(members: [], alarms: []).encoded()
        #expect(PeerNetwork.refusesSnapshot(snap(voters: [1, 2], data: extras)) == nil)
        #expect(PeerNetwork.refusesSnapshot(snap(voters: [], data: extras)) != nil)
        #expect(PeerNetwork.refusesSnapshot(snap(voters: [1], data: [0xFF, 0])) != nil)
        #expect(PeerNetwork.refusesSnapshot(Message(type: .snap, to: 2, from: 1, term: 2)) != nil)
    }

    /// etcd 3.5.1's answers on its peer port (curl http://127.0.0.1:2380/…).
    @Test func httpProbesOnThePeerPortAnswerAsEtcd() {
        let members = [ClusterMember(id: 5115624673580378263, name: "e1", peerURLs: ["http://127.0.0.1:26101"],
                                     clientURLs: ["http://127.0.0.1:26100"]),
                       ClusterMember(id: 7, name: "l", peerURLs: ["http://x:1"], clientURLs: [], learner: true)]
        func get(_ path: String, _ method: String = "GET") -> PeerHTTPAnswer {
            PeerHTTPAnswer.answer(method: method, path: path, clusterVersion: "3.5.0", clusterID: 0x2d78777096554079,
                                  members: members, now: Date(timeIntervalSince1970: 0))
        }
        #expect(String(decoding: get("/version").body, as: UTF8.self) == "{\"etcdserver\":\"3.5.1\",\"etcdcluster\":\"3.5.0\"}")
        let list = get("/members")
        #expect(list.headers["X-Etcd-Cluster-Id"] == "2d78777096554079")
        #expect(String(decoding: list.body, as: UTF8.self) == """
            [{"id":5115624673580378263,"peerURLs":["http://127.0.0.1:26101"],"name":"e1","clientURLs":["http://127.0.0.1:26100"]},\
            {"id":7,"peerURLs":["http://x:1"],"isLearner":true,"name":"l","clientURLs":[]}]

            """)
        #expect(String(decoding: get("/raft/probing").body, as: UTF8.self) == "{\"OK\":true,\"Now\":\"1970-01-01T00:00:00.000Z\"}\n")
        #expect(get("/version", "POST").status == 405)
        #expect(get("/members", "HEAD").status == 405)
        #expect(get("/raft/probing", "POST").status == 200)
        // rafthttp's paths: the wrong method 405 with its Allow, the right one 412.
        for (method, path, status, allow) in [("GET", "/raft", 405, "POST"), ("PUT", "/raft/snapshot", 405, "POST"),
                                              ("POST", "/raft/stream/message/1", 405, "GET"),
                                              ("GET", "/members/promote/1", 405, "POST"), ("GET", "/leases", 405, nil),
                                              ("POST", "/raft", 412, nil), ("GET", "/raft/stream/message/1", 412, nil)] {
            let answer = get(path, method)
            #expect(answer.status == status && answer.headers["Allow"] == allow, "\(method) \(path): \(answer)")
        }
        let refused = get("/raft/stream/msgappv2/5", "GET")
        #expect(refused.headers["X-Etcd-Cluster-Id"] == "2d78777096554079" && refused.headers["X-Server-Version"] == "3.5.1")
        #expect(String(decoding: refused.body, as: UTF8.self) == "incompatible version\n")
        #expect(String(decoding: get("/nope").body, as: UTF8.self) == "404 page not found\n")
    }
}
