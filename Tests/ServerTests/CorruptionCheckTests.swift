import NIOCore
import Testing
@testable import Server

/// etcd's corruption-check decisions (corrupt.go) on made-up hashes, the
/// peer probe frames, and the health request parsing.
@Suite struct CorruptionCheckTests {
    let local = CorruptionCheck.HashPoint(hash: 100, revision: 50, compactRevision: -1)

    func answer(_ hash: UInt32, rev: Int64 = 50, compact: Int64 = -1, _ outcome: PeerHashAnswer.Outcome = .ok) -> CorruptionCheck.PeerResult {
        .answer(PeerHashAnswer(outcome: outcome, revision: rev, compactRevision: compact, hash: hash))
    }

    @Test func initialCheckFlagsOnlyAHashDifferenceAtTheSameCompaction() {
        #expect(CorruptionCheck.initialFinding(local: local, peer: answer(100)) == .consistent)
        #expect(CorruptionCheck.initialFinding(local: local, peer: answer(101)) == .mismatch("found different hash values from remote peer"))
        #expect(CorruptionCheck.initialFinding(local: local, peer: answer(101, compact: 20))
            == .skipped("found different compact revision values from remote peer"))
        #expect(CorruptionCheck.initialFinding(local: local, peer: answer(0, .futureRevision)) == .skipped("cannot fetch hash from slow remote peer"))
        #expect(CorruptionCheck.initialFinding(local: local, peer: answer(0, .compacted))
            == .skipped("cannot fetch hash from remote peer; local member is behind"))
        #expect(CorruptionCheck.initialFinding(local: local, peer: .unreachable) == .skipped("failed hash kv request"))
        #expect(CorruptionCheck.inconsistencyMessage(memberID: 0x8e9e05c52164694d) == "8e9e05c52164694d found data inconsistency with peers")
    }

    @Test func periodicCheckAsEtcdsCheckHashKV() {
        let peers: [(UInt64, CorruptionCheck.PeerResult)] = [
            (2, answer(100)), (3, answer(7)), (4, answer(100, rev: 60)), (5, answer(100, compact: 10)), (6, .unreachable),
        ]
        let r = CorruptionCheck.periodicFindings(first: local, second: local, peers: peers)
        #expect(r.leader == .consistent)
        let byID: [UInt64: CorruptionCheck.Finding] = Dictionary(uniqueKeysWithValues: r.followers.map { ($0.0, $0.1) })
        #expect(byID[2] == .consistent)
        #expect(byID[3] == .mismatch("same compact revision then hashes must match"))
        #expect(byID[4] == .mismatch("revision from follower must be less than or equal to leader's"))
        #expect(byID[5] == .mismatch("compact revision from follower must be less than or equal to leader's"))
        #expect(byID[6] == .skipped("failed hash kv request"))

        var changed = local
        changed.hash = 99
        #expect(CorruptionCheck.periodicFindings(first: local, second: changed, peers: []).leader == .mismatch("found hash mismatch"))
        changed.revision = 51  // a write in between explains the new hash
        #expect(CorruptionCheck.periodicFindings(first: local, second: changed, peers: []).leader == .consistent)
    }

    @Test func probeFramesRoundTrip() throws {
        let frames: [PeerFrame] = [
            .ping(sentNanos: 123_456_789), .pong(sentNanos: 42), .hashRequest(requestID: 7, revision: -3),
            .hashAnswer(requestID: 7, PeerHashAnswer(outcome: .compacted, revision: 9, compactRevision: 4, hash: 0xDEADBEEF)),
        ]
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        for f in frames { f.write(into: &buffer) }
        #expect(buffer.getInteger(at: 4, as: UInt8.self) == 14)
        var decoded: [PeerFrame] = []
        while let f = try PeerFrameDecoder.next(&buffer) { decoded.append(f) }
        #expect(decoded == frames)

        var short = ByteBufferAllocator().buffer(capacity: 8)
        short.writeInteger(UInt32(2))
        short.writeInteger(UInt8(17))
        short.writeInteger(UInt8(0))
        #expect(throws: PeerProtocolError.self) { _ = try PeerFrameDecoder.next(&short) }
    }

    @Test func healthQueryAndBody() {
        #expect(HealthQuery("serializable=true&exclude=NOSPACE&exclude=") == {
            var q = HealthQuery("")
            q.serializable = true
            q.excluded = ["NOSPACE"]
            return q
        }())
        #expect(HealthQuery("serializable=false").serializable == false)
        #expect(HealthStatus.ok.json == #"{"health":"true","reason":""}"#)
        #expect(HealthStatus(isHealthy: false, reason: "RANGE ERROR:a \"b\"").json == #"{"health":"false","reason":"RANGE ERROR:a \"b\""}"#)
    }
}
