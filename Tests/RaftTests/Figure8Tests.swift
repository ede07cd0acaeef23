import Testing
@testable import Raft

/// The paper's Figure 8, scripted on 5 nodes. New leaders skip their empty
/// entry here (a test-only fault, safe on its own) so that only the commit
/// rule stands between the cluster and a lost committed entry.
@Suite struct Figure8Tests {
    func run(plantBug: Bool) throws -> (committedByS1: UInt64, s5LeadsWithTermAt6: UInt64?) {
        let c = try TestCluster([1, 2, 3, 4, 5]) {
            $0.testingFaults.skipEmptyEntryOnElection = true
            $0.testingFaults.commitPreviousTermByCounting = plantBug
        }
        // (a) S1 leads term 2 and gets X at index 6 onto S2 only.
        c.campaign(1)
        for a: UInt64 in 1...5 { for b: UInt64 in 1...5 where a != b && !(Set([a, b]) == [1, 2]) { c.cut.insert([a, b]) } }
        try c.propose(1, "X")
        #expect(c.nodes[2]!.term(at: 6) == 2)
        // (b) S1 crashes; S5 leads term 3 with S3, S4 and appends Y at 6 alone.
        c.down.insert(1)
        c.heal()
        c.cut.insert([5, 2]); c.cut.insert([2, 5])
        c.campaign(5)
        #expect(c.status(5).role == .leader)
        c.isolate(5)
        try c.propose(5, "Y")
        #expect(c.nodes[5]!.term(at: 6) == 3)
        // (c) S5 crashes; S1 restarts, leads term 4, replicates X to a majority.
        c.down.insert(5)
        c.heal()
        try c.restart(1)
        c.stabilize()
        // Term 3 is taken (S3, S4 voted for S5): S1 needs a second round.
        for _ in 0..<2 where c.status(1).role != .leader { c.campaign(1) }
        #expect(c.status(1).role == .leader)
        let committed = c.status(1).commit
        // (d) S1 crashes before anything of term 4 spreads; S5 comes back and
        // wins with S2, S3, S4 (their last term 2 < 3). Its appends are held back.
        c.down.insert(1)
        try c.restart(5)
        c.handleReady(5)
        c.queue.removeAll()
        for _ in 0..<3 where c.status(5).role != .leader {
            try c.nodes[5]!.campaign()
            for _ in 0..<6 {
                for id: UInt64 in [2, 3, 4, 5] { c.handleReady(id) }
                c.deliverAll { !($0.type == .app && $0.from == 5) }
            }
        }
        let leads = c.status(5).role == .leader
        return (committed, leads ? c.nodes[5]!.term(at: 6) : nil)
    }

    @Test func correctCommitRuleKeepsXUncommitted() throws {
        let r = try run(plantBug: false)
        #expect(r.committedByS1 == 5)     // X (index 6, term 2) not committed by counting
        #expect(r.s5LeadsWithTermAt6 == 3) // so S5 overwriting it is legal
    }

    @Test func plantedBugLosesACommittedEntry() throws {
        let r = try run(plantBug: true)
        #expect(r.committedByS1 == 6)      // X committed by counting...
        #expect(r.s5LeadsWithTermAt6 == 3) // ...yet a leader without X is elected
    }
}
