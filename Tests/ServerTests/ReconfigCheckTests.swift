import Foundation
import Testing
@testable import Server

/// etcd 3.4's strict reconfiguration rules (`mayAddMember`, `mayRemoveMember`,
/// `mayPromoteMember`), case by case.
@Suite struct ReconfigCheckTests {
    /// `MonotonicClock` nanoseconds.
    let now: UInt64 = 1_000_000_000_000
    var longAgo: UInt64 { now - 60_000_000_000 }
    var justNow: UInt64 { now - 1_000_000_000 }

    func check(_ voters: [(UInt64, Bool, UInt64?)]) -> ReconfigCheck {
        ReconfigCheck(localID: 1, voters: voters.map { .init(id: $0.0, started: $0.1, activeSince: $0.2) }, now: now)
    }

    @Test func addToSingleMemberIsAllowed() {
        #expect(check([(1, true, nil)]).mayAdd(learner: false) == nil)
    }

    @Test func addNeedsAStartedQuorumOfTheNewSize() {
        // 1 started + 1 added but never started: a third voter would need 2 started.
        #expect(check([(1, true, nil), (2, false, nil)]).mayAdd(learner: false) == .notEnoughStarted)
        // A learner skips the started check but not the connection check:
        // the added voter never started, so it is not connected (etcd 3.5.1:
        // "etcdserver: unhealthy cluster").
        #expect(check([(1, true, nil), (2, false, nil)]).mayAdd(learner: true) == .unhealthy)
        #expect(check([(1, true, nil), (2, false, longAgo)]).mayAdd(learner: true) == nil)
        #expect(check([(1, true, nil)]).mayAdd(learner: true) == nil)
    }

    @Test func addNeedsEveryVoterConnectedForTheHealthInterval() {
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, longAgo)]).mayAdd(learner: false) == nil)
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, justNow)]).mayAdd(learner: false) == .unhealthy)
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, nil)]).mayAdd(learner: false) == .unhealthy)
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, justNow)]).mayAdd(learner: true) == .unhealthy)
    }

    @Test func removeKeepsAStartedQuorumOfTheRest() {
        // Removing the only started member leaves one that never started.
        #expect(check([(1, true, nil), (2, false, nil)]).mayRemove(1, isLearner: false) == .notEnoughStarted)
        #expect(check([(1, true, nil), (2, false, nil)]).mayRemove(2, isLearner: false) == nil)
        #expect(check([(1, true, nil), (2, false, nil)]).mayRemove(2, isLearner: true) == nil)
    }

    @Test func removeOfAConnectedMemberNeedsAnActiveQuorumLeft() {
        // 3 voters, 3 down: removing a connected 2 would leave 1 of 2 active.
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, nil)]).mayRemove(2, isLearner: false) == .unhealthy)
        // Removing the member that is down is fine.
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, nil)]).mayRemove(3, isLearner: false) == nil)
        #expect(check([(1, true, nil), (2, true, longAgo), (3, true, longAgo)]).mayRemove(2, isLearner: false) == nil)
    }

    @Test func promoteCountsTheLearnerAsStarted() {
        #expect(check([(1, true, nil)]).mayPromote() == nil)
        #expect(check([(1, true, nil), (2, false, nil), (3, false, nil)]).mayPromote() == .notEnoughStarted)
    }
}
