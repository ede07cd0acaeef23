import Testing
@testable import Raft

@Suite struct CodecTests {
    @Test func messageRoundTrips() throws {
        let snap = Snapshot(metadata: SnapshotMetadata(index: 99, term: 7, confState: ConfState(voters: [1, 2, 3], learners: [9])),
                            data: [UInt8](repeating: 5, count: 300))
        let msgs = [
            Message(type: .app, to: 2, from: 1, term: 5, logTerm: 4, index: 10,
                    entries: [Entry(term: 5, index: 11, data: [1, 2]), Entry(term: 5, index: 12, type: .confChange, data: [])],
                    commit: 9),
            Message(type: .appResp, to: 1, from: 2, term: 5, logTerm: 3, index: 10, reject: true, rejectHint: 8),
            Message(type: .snap, to: 3, from: 1, term: Message.maxTermOrIndex, snapshot: snap),
            Message(type: .heartbeat, to: 3, from: 1, term: 2, commit: 1, context: [0xff, 0]),
            Message(type: .prop),
        ]
        for m in msgs { #expect(try Message(decoding: m.encoded()) == m) }
    }

    @Test func malformedMessagesThrow() {
        let good = Message(type: .app, to: 2, from: 1, term: 1, entries: [Entry(term: 1, index: 1, data: [1])]).encoded()
        #expect(throws: RaftError.self) { try Message(decoding: []) }
        #expect(throws: RaftError.self) { try Message(decoding: [2] + good.dropFirst()) }
        #expect(throws: RaftError.self) { try Message(decoding: Array(good.dropLast())) }
        #expect(throws: RaftError.self) { try Message(decoding: good + [0]) }
        #expect(throws: RaftError.self) { try Message(decoding: [1, 200, 0]) }
        // A term or index the core would overflow on (`index + 1`) never reaches it.
        for past in [Message(type: .app, to: 2, from: 1, term: UInt64.max),
                     Message(type: .appResp, to: 1, from: 2, index: Message.maxTermOrIndex + 1),
                     Message(type: .appResp, to: 1, from: 2, reject: true, rejectHint: UInt64.max),
                     Message(type: .app, to: 2, from: 1, entries: [Entry(term: 1, index: UInt64.max, data: [])])] {
            #expect(throws: RaftError.malformed("term or index past 2^63")) { try Message(decoding: past.encoded()) }
        }
    }

    @Test func rawNodeRejectsLocalMessagesFromPeers() throws {
        var n = try RawNode(config: RaftConfig(id: 1), storage: MemoryStorage())
        try n.bootstrap(peers: [1, 2, 3])
        #expect(throws: RaftError.stepLocalMessage) { try n.step(Message(type: .hup, from: 2)) }
        #expect(throws: RaftError.stepPeerNotFound) { try n.step(Message(type: .appResp, from: 9, term: 1)) }
        #expect(throws: RaftError.alreadyBootstrapped) { try n.bootstrap(peers: [1]) }
    }
}

@Suite struct CodecFuzzTests {
    /// Random and truncated inputs either decode or throw; they never trap.
    @Test func randomBytesNeverTrap() {
        var rng = SplitMix64(seed: 99)
        let sample = Message(type: .app, to: 2, from: 1, term: 3, logTerm: 2, index: 7,
                             entries: [Entry(term: 3, index: 8, data: [1, 2, 3])], commit: 6).encoded()
        for _ in 0..<5000 {
            var bytes = sample
            for _ in 0..<(1 + rng.next(below: 4)) { bytes[rng.next(below: bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            bytes = Array(bytes.prefix(rng.next(below: bytes.count + 1)))
            _ = try? Message(decoding: bytes)
            _ = try? ConfChange(decoding: bytes)
        }
    }
}
