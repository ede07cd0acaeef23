import Testing
@testable import Linearizability

/// Hand-written histories whose verdict is clear on paper.
@Suite struct CheckerTests {
    @Test func sequentialHistoryIsLinearizable() {
        var h = HistoryBuilder()
        h.get(nil, 0, 1)
        h.put("a", 2, 3)
        h.get("a", 4, 5)
        h.cas("a", "b", swapped: true, 6, 7)
        h.cas("a", "c", swapped: false, 8, 9)
        h.get("b", 10, 11)
        #expect(h.check().isLinearizable)
    }

    @Test func staleReadIsFlaggedWithThreeOperations() throws {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.put("b", 20, 30)
        h.get("a", 40, 50)
        h.get("b", 60, 70)
        let result = h.check()
        let violation = try #require(result.violations.first)
        #expect(result.violations.count == 1 && violation.key == "x")
        #expect(violation.isMinimal)
        #expect(violation.operations.map(\.id) == [1, 2, 3], "\(violation)")
    }

    @Test func readConcurrentWithAWriteMaySeeEitherValue() {
        for read in ["a", "b"] {
            var h = HistoryBuilder()
            h.put("a", 0, 10)
            h.put("b", 20, 50)
            h.get(read, 30, 40)
            #expect(h.check().isLinearizable, "read \(read)")
        }
    }

    @Test func readsMustNotGoBackInTimeDuringAWrite() {
        // Both reads overlap the write, but once one saw b a later one cannot see a.
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.put("b", 20, 100)
        h.get("b", 30, 40, client: 1)
        h.get("a", 50, 60, client: 2)
        // No classic stale-read pattern here (put b never returned): the shrinking search explains it.
        let violation = h.check().violations.first
        #expect(violation?.isMinimal == true && violation?.operations.count == 4, "\(String(describing: violation))")
    }

    @Test func touchingIntervalsCountAsConcurrent() {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.get("a", 10, 20)
        #expect(h.check().isLinearizable)
    }

    @Test func lostWriteIsFlagged() throws {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.get(nil, 20, 30)
        let violation = try #require(h.check().violations.first)
        #expect(violation.operations.map(\.id) == [1, 2])
    }

    @Test func readOfAValueNeverWrittenIsFlaggedAlone() throws {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.get("a", 20, 30)
        h.get("zzz", 40, 50)
        let violation = try #require(h.check().violations.first)
        #expect(violation.operations.map(\.id) == [3], "\(violation)")
    }

    @Test func unknownWriteMayTakeEffectAnyTimeAfterItsInvocation() {
        var late = HistoryBuilder()
        late.put("a", 0, nil)
        late.get(nil, 20, 30)
        late.get("a", 1_000, 1_010)
        #expect(late.check().isLinearizable)

        var never = HistoryBuilder()
        never.put("a", 0, nil)
        never.get(nil, 1_000, 1_010)
        #expect(never.check().isLinearizable)

        var beforeInvocation = HistoryBuilder()
        beforeInvocation.get("a", 0, 10)
        beforeInvocation.put("a", 20, nil)
        #expect(!beforeInvocation.check().isLinearizable)

        var undone = HistoryBuilder()
        undone.put("a", 0, nil)
        undone.get("a", 20, 30)
        undone.get(nil, 40, 50)
        #expect(!undone.check().isLinearizable)
    }

    /// A write whose client timed out, seen, overwritten, then seen again:
    /// as if it were applied twice (found against a partitioned cluster).
    @Test func unknownWriteSeenAgainAfterBeingOverwrittenIsFlagged() throws {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.put("b", 20, nil, client: 2)
        h.get("b", 100, 110, client: 1)
        h.cas("b", "c", swapped: true, 120, 130, client: 1)
        h.get("c", 140, 150, client: 1)
        h.get("b", 200, 210, client: 3)
        let violation = try #require(h.check().violations.first)
        #expect(violation.isMinimal && violation.operations.map(\.id) == [2, 3, 4, 6], "\(violation)")
    }

    @Test func compareAndSetSwapsOnlyFromTheExpectedValue() {
        var twice = HistoryBuilder()
        twice.put("a", 0, 10)
        twice.cas("a", "b", swapped: true, 20, 40, client: 1)
        twice.cas("a", "c", swapped: true, 20, 40, client: 2)
        #expect(!twice.check().isLinearizable)

        var failedWhileEqual = HistoryBuilder()
        failedWhileEqual.put("a", 0, 10)
        failedWhileEqual.cas("a", "b", swapped: false, 20, 30)
        #expect(!failedWhileEqual.check().isLinearizable)

        var failedOnAbsent = HistoryBuilder()
        failedOnAbsent.cas("a", "b", swapped: false, 0, 10)
        failedOnAbsent.get(nil, 20, 30)
        #expect(failedOnAbsent.check().isLinearizable)

        var failedDuringAWrite = HistoryBuilder()
        failedDuringAWrite.put("a", 0, 10)
        failedDuringAWrite.put("z", 20, 50, client: 1)
        failedDuringAWrite.cas("a", "b", swapped: false, 30, 40)
        #expect(failedDuringAWrite.check().isLinearizable)
    }

    @Test func unknownCompareAndSetMayOrMayNotHaveSwapped() {
        for laterRead in ["a", "b"] {
            var h = HistoryBuilder()
            h.put("a", 0, 10)
            h.cas("a", "b", swapped: nil, 20, nil)
            h.get(laterRead, 100, 110)
            #expect(h.check().isLinearizable, "read \(laterRead)")
        }
        var flipFlop = HistoryBuilder()
        flipFlop.put("a", 0, 10)
        flipFlop.cas("a", "b", swapped: nil, 20, nil)
        flipFlop.get("b", 100, 110)
        flipFlop.get("a", 120, 130)
        #expect(!flipFlop.check().isLinearizable)
    }

    /// An unknown put whose value nobody read still matters when it is the
    /// only explanation for a failed compare-and-set.
    @Test func unobservedUnknownWriteCanExplainAFailedCompare() {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.put("lost", 20, nil)
        h.cas("a", "b", swapped: false, 30, 40)
        #expect(h.check().isLinearizable)

        var tooLate = HistoryBuilder()
        tooLate.put("a", 0, 10)
        tooLate.cas("a", "b", swapped: false, 30, 40)
        tooLate.put("lost", 50, nil)
        #expect(!tooLate.check().isLinearizable)
    }

    /// Many pending unknown writes of unobserved values around failed
    /// compares: without treating them as interchangeable the search would
    /// try every subset of them.
    @Test func manyPendingUnknownWritesStayTractable() throws {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        for i in 0..<60 { h.put("lost\(i)", 20 + Int64(i), nil, client: i + 1) }
        for i in 0..<20 {
            let t = 100 + Int64(i) * 10
            h.cas("a", "b\(i)", swapped: false, t, t + 5)
        }
        #expect(h.check(LinearizabilityChecker(maxStepsPerKey: 200_000)).isLinearizable)
        h.get("a", 400, 410) // a is gone by now: some unknown put must have landed
        let result = h.check(LinearizabilityChecker(maxStepsPerKey: 200_000))
        #expect(result.inconclusiveKeys.isEmpty)
        let violation = try #require(result.violations.first)
        // The lost puts stay: each may be what made a compare fail.
        #expect(violation.isMinimal && violation.operations.contains { $0.id == h.ops.last?.id }, "\(violation)")
        #expect(violation.operations.filter { $0.call != .get && $0.outcome == .swapped(false) }.count == 1, "\(violation)")
    }

    @Test func keysAreCheckedSeparately() throws {
        var h = HistoryBuilder()
        h.put("a", 0, 10, key: "k1")
        h.put("a", 0, 10, key: "k2")
        h.put("b", 20, 30, key: "k2")
        h.get("a", 40, 50, key: "k1")
        h.get("a", 40, 50, key: "k2")
        let result = h.check()
        #expect(result.keyCount == 2)
        #expect(result.violations.map(\.key) == ["k2"])
        let description = result.description
        #expect(description.contains("key k2") && description.contains("put(k2, b)"), "\(description)")
    }

    @Test func unansweredGetsAreIgnored() {
        var h = HistoryBuilder()
        h.put("a", 0, 10)
        h.ops.append(Operation(id: 99, client: 3, key: "x", call: .get, outcome: .unknown, invokeNs: 20, returnNs: nil))
        #expect(h.check().isLinearizable)
    }
}
