import Testing
@testable import Raft

/// Messages a stranger on the peer port can forge under a member's ID
/// (there is no peer authentication without TLS client certificates): they
/// may mislead, but none may reach a trap.
@Suite struct ForgedPeerMessageTests {
    /// An append whose entries do not follow its index one by one would be
    /// sliced out of range (or committed past the last index) by the follower.
    @Test func appendsWithEntriesOutOfSequenceDoNotDecode() throws {
        let gap = Message(type: .app, to: 2, from: 1, term: 2, logTerm: 1, index: 5,
                          entries: [Entry(term: 2, index: 1000, data: [1])], commit: 5)
        let behind = Message(type: .app, to: 2, from: 1, term: 2, logTerm: 1, index: 5,
                             entries: [Entry(term: 2, index: 6, data: []), Entry(term: 2, index: 3, data: [])])
        for m in [gap, behind] {
            #expect(throws: RaftError.self) { try Message(decoding: m.encoded()) }
        }
        let fine = Message(type: .app, to: 2, from: 1, term: 2, logTerm: 1, index: 5,
                           entries: [Entry(term: 2, index: 6, data: []), Entry(term: 2, index: 7, data: [])], commit: 7)
        #expect(try Message(decoding: fine.encoded()) == fine)
        // A forwarded proposal's entries have no index yet.
        let prop = Message(type: .prop, to: 1, from: 2, entries: [Entry(term: 0, index: 0, data: [1]), Entry(term: 0, index: 0, data: [2])])
        #expect(try Message(decoding: prop.encoded()) == prop)
    }

    /// An acknowledgement past the leader's log: the leader would aim the
    /// follower's next append past its log and, with no snapshot taken yet,
    /// trap on "need a non-empty snapshot". It is ignored; the follower keeps
    /// replicating.
    @Test func leaderIgnoresAnAcknowledgementPastItsLog() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        let term = c.status(1).term
        try c.nodes[1]!.step(Message(type: .appResp, to: 1, from: 2, term: term, index: 1 << 40))
        c.stabilize()
        c.tickAll(3)
        try c.propose(1, "b")
        for id: UInt64 in [1, 2, 3] { #expect(c.appliedStrings(id) == ["a", "b"]) }
    }

    /// A heartbeat's commit past the follower's log only commits what it holds.
    @Test func heartbeatCommitPastTheLogIsCapped() throws {
        let c = try TestCluster([1, 2, 3])
        c.campaign(1)
        try c.propose(1, "a")
        let term = c.status(1).term
        try c.nodes[2]!.step(Message(type: .heartbeat, to: 2, from: 1, term: term, commit: Message.maxTermOrIndex))
        c.stabilize()
        #expect(c.status(2).commit == c.nodes[2]!.lastIndex)
    }
}
