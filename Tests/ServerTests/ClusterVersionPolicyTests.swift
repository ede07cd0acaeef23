import Testing
@testable import Server

@Suite struct ClusterVersionPolicyTests {
    @Test func everyMemberKnownSetsOrRaisesTheVersion() {
        #expect(ClusterVersionPolicy.proposal(current: nil, ours: "3.5.1", everyMemberKnown: true, leaderFor: .zero) == "3.5.0")
        #expect(ClusterVersionPolicy.proposal(current: "3.0.0", ours: "3.5.0", everyMemberKnown: true, leaderFor: .zero) == "3.5.0")
        #expect(ClusterVersionPolicy.proposal(current: "3.5.0", ours: "3.5.0", everyMemberKnown: true, leaderFor: .seconds(9)) == nil)
        // Never lowered here (that is downgrade's business).
        #expect(ClusterVersionPolicy.proposal(current: "3.6.0", ours: "3.5.0", everyMemberKnown: true, leaderFor: .zero) == nil)
    }

    @Test func anUnknownMemberGetsTheMinimumAfterOneInterval() {
        #expect(ClusterVersionPolicy.proposal(current: nil, ours: "3.5.0", everyMemberKnown: false, leaderFor: .seconds(3)) == nil)
        #expect(ClusterVersionPolicy.proposal(current: nil, ours: "3.5.0", everyMemberKnown: false, leaderFor: .seconds(4)) == "3.0.0")
        // Once set, an unknown member changes nothing.
        #expect(ClusterVersionPolicy.proposal(current: "3.0.0", ours: "3.5.0", everyMemberKnown: false, leaderFor: .seconds(60)) == nil)
    }

    @Test func versionsCompareByNumberNotText() {
        #expect(ClusterVersionPolicy.lessThan("3.9.0", "3.10.0"))
        #expect(!ClusterVersionPolicy.lessThan("3.10.0", "3.9.0"))
        #expect(!ClusterVersionPolicy.lessThan("3.5.0", "3.5.9"))
        #expect(ClusterVersionPolicy.lessThan("garbage", "3.0.0"))
        #expect(ClusterVersionPolicy.majorMinorZero("3.5.1") == "3.5.0")
    }
}
