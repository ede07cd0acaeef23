import Config
import Testing
@testable import Server

@Suite struct AutoCompactionPlanTests {
    @Test func disabledRetentionsMakeNoPlan() {
        #expect(AutoCompactionPlan(.disabled, nowSeconds: 0) == nil)
        #expect(AutoCompactionPlan(.revisions(0), nowSeconds: 0) == nil)
        #expect(AutoCompactionPlan(.period(.zero), nowSeconds: 0) == nil)
    }

    @Test func periodicCompactsToTheRevisionFromOnePeriodAgo() throws {
        // Period 10 s: a check every second, first compaction after 10 s.
        var plan = try #require(AutoCompactionPlan(.period(.seconds(10)), nowSeconds: 0, currentRevision: 100))
        #expect(plan.checkIntervalSeconds == 1)
        var compactedTo: [Int64] = []
        for t in 1...30 {
            let now = Double(t)
            let revision = Int64(100 + t * 5)  // 5 writes a second
            if let rev = plan.check(nowSeconds: now, currentRevision: revision) {
                compactedTo.append(rev)
                plan.compacted(rev, nowSeconds: now)
                // The revision kept is about one period old.
                #expect(revision - rev >= 45 && revision - rev <= 55)
            }
        }
        #expect(compactedTo.count == 3)  // at 10 s, then every min(period, 1 h) = 10 s
        #expect(compactedTo == compactedTo.sorted())
    }

    /// etcd's window exactly (period 10 s, 5 writes a second from revision
    /// 100 at 0 s): the first compaction, at 10 s, keeps the revision from
    /// 0 s; later ones the revision from 11 s before. A member that follows
    /// keeps sampling, so on becoming leader it compacts to the revision from
    /// a period ago, not to its current one (which dropped the whole window).
    @Test func periodicKeepsEtcdsWindowAndSamplesOnFollowers() throws {
        var plan = try #require(AutoCompactionPlan(.period(.seconds(10)), nowSeconds: 0, currentRevision: 100))
        var compactedTo: [Int64] = []
        for t in 1...30 {
            if let rev = plan.check(nowSeconds: Double(t), currentRevision: Int64(100 + t * 5)) {
                compactedTo.append(rev)
                plan.compacted(rev, nowSeconds: Double(t))
            }
        }
        #expect(compactedTo == [100, 145, 195])
        var follower = try #require(AutoCompactionPlan(.period(.seconds(10)), nowSeconds: 0, currentRevision: 100))
        for t in 1...15 {
            #expect(follower.check(nowSeconds: Double(t), currentRevision: Int64(100 + t * 5), leading: false) == nil)
        }
        #expect(follower.check(nowSeconds: 16, currentRevision: 180, leading: true) == 125)
        // Nothing written after 16 s: once the window holds only 180, a try
        // at 180 again counts as done (etcd's ErrCompacted).
        follower.compacted(125, nowSeconds: 16)
        var idle = [Int64]()
        for t in 17...60 {
            if let r = follower.check(nowSeconds: Double(t), currentRevision: 180) {
                idle.append(r)
                follower.compacted(r, nowSeconds: Double(t))
            }
        }
        #expect(idle == [175, 180])
    }

    @Test func longPeriodsRetryHourly() throws {
        var plan = try #require(AutoCompactionPlan(.period(.seconds(24 * 3600)), nowSeconds: 0, currentRevision: 1))
        #expect(plan.checkIntervalSeconds == 360)
        var first: Double?
        for step in 1...300 {  // 30 h of checks, 6 min apart
            let t = Double(step * 360)
            if let rev = plan.check(nowSeconds: t, currentRevision: Int64(t)) {
                if first == nil { first = t }
                #expect(Int64(t) - rev >= 24 * 3600 - 400)
                plan.compacted(rev, nowSeconds: t)
            }
        }
        #expect(first == Double(24 * 3600))
    }

    @Test func revisionModeKeepsTheLastN() throws {
        var plan = try #require(AutoCompactionPlan(.revisions(100), nowSeconds: 0))
        #expect(plan.checkIntervalSeconds == 300)
        #expect(plan.check(nowSeconds: 300, currentRevision: 50) == nil)
        #expect(plan.check(nowSeconds: 600, currentRevision: 250) == 150)
        plan.compacted(150, nowSeconds: 600)
        #expect(plan.check(nowSeconds: 900, currentRevision: 250) == nil)  // nothing new
        #expect(plan.check(nowSeconds: 1200, currentRevision: 260) == 160)
    }
}
