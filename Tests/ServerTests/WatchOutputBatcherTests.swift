@testable import MVCC
import Testing
@testable import Server

@Suite struct WatchOutputBatcherTests {
    func ev(_ rev: Int64, key: String = "k", value: Int = 1) -> Event {
        Event(type: .put, kv: KeyValue(key: Array(key.utf8), modRevision: rev, value: [UInt8](repeating: 1, count: value)))
    }

    func events(_ id: Int64, _ revs: [Int64]) -> WatchOutput {
        .events(watchID: id, events: revs.map { ev($0) }, revision: revs.last!)
    }

    @Test func aWatchersEventsJoinItsFirstOutputWithTheNewestRevision() {
        let out = WatchOutputBatcher.merge([events(1, [2]), events(2, [2]), events(1, [3]), events(1, [4, 4]), events(2, [5])])
        #expect(out == [.events(watchID: 1, events: [ev(2), ev(3), ev(4), ev(4)], revision: 4),
                        .events(watchID: 2, events: [ev(2), ev(5)], revision: 5)])
    }

    @Test func createdCanceledCompactedAndOwnProgressAreBarriersForThatWatcherOnly() {
        let input: [WatchOutput] = [
            events(1, [2]), events(2, [2]),
            .progress(watchID: 1, revision: 2),
            events(1, [3]), events(2, [3]),
            .canceled(watchID: 2, revision: 3),
            .created(watchID: 2, revision: 3, canceled: false, reason: ""),
            events(2, [4]), events(1, [4]),
        ]
        #expect(WatchOutputBatcher.merge(input) == [
            events(1, [2]), events(2, [2, 3]),
            .progress(watchID: 1, revision: 2),
            events(1, [3, 4]),
            .canceled(watchID: 2, revision: 3),
            .created(watchID: 2, revision: 3, canceled: false, reason: ""),
            events(2, [4]),
        ])
    }

    @Test func aStreamProgressIsABarrierForEveryWatcher() {
        let input: [WatchOutput] = [events(1, [2]), .progress(watchID: -1, revision: 2), events(1, [3])]
        #expect(WatchOutputBatcher.merge(input) == input)
    }

    @Test func outputsCloseAtTheEventAndByteLimits() {
        let byCount = WatchOutputBatcher.merge((2...6).map { events(1, [$0]) }, maxEvents: 2)
        #expect(byCount == [events(1, [2, 3]), events(1, [4, 5]), events(1, [6])])
        let big: [WatchOutput] = (2...4).map { .events(watchID: 1, events: [ev($0, value: 100)], revision: $0) }
        let byBytes = WatchOutputBatcher.merge(big, maxBytes: 250)
        #expect(byBytes.count == 2)
        #expect(byBytes.first?.eventRevisions?.1 == [2, 3])
    }

    /// The byte limit counts each output's own events, also right after
    /// outputs that share one array (whose size is reused): a small array of
    /// as many events is not charged the shared one's bytes.
    @Test func theByteLimitCountsEachArraysOwnBytes() {
        let shared = [ev(2, value: 100)]
        let outputs: [WatchOutput] = [
            .events(watchID: 1, events: shared, revision: 2), .events(watchID: 2, events: shared, revision: 2),
            .events(watchID: 1, events: [ev(3)], revision: 3), .events(watchID: 1, events: [ev(4)], revision: 4),
            .events(watchID: 2, events: [ev(5, value: 100)], revision: 5),
        ]
        let out = WatchOutputBatcher.merge(outputs, maxBytes: 150)
        #expect(out.map(\.eventRevisions?.1) == [[2, 3, 4], [2], [5]])
    }

    /// Whatever the interleaving: per watcher, the same events in the same
    /// order; nothing of a watcher crosses its other outputs or a stream-wide
    /// progress; fewer or as many outputs.
    @Test(arguments: [11, 12, 13, 14, 15])
    func randomInterleavingsKeepEachWatchersSequence(seed: UInt64) {
        var rng = SeedRandom(seed)
        var input: [WatchOutput] = []
        var rev: Int64 = 1
        for _ in 0..<300 {
            let id = Int64(rng.next(4))
            switch rng.next(10) {
            case 0: input.append(.progress(watchID: -1, revision: rev))
            case 1: input.append(.progress(watchID: id, revision: rev))
            case 2: input.append(.created(watchID: id, revision: rev, canceled: false, reason: ""))
            default:
                rev += 1
                input.append(events(id, [rev]))
            }
        }
        let out = WatchOutputBatcher.merge(input, maxEvents: 5)
        #expect(out.count <= input.count)
        // Split both into segments at stream-wide progress; per segment and
        // watcher, the sequence of (event revisions | other output) must match.
        func signature(_ outputs: [WatchOutput]) -> [[Int64: [String]]] {
            var segments: [[Int64: [String]]] = [[:]]
            for o in outputs {
                switch o {
                case .progress(-1, let r):
                    segments.append([:])
                    segments[segments.count - 1][-1] = ["p\(r)"]
                case .events(let id, let evs, _):
                    segments[segments.count - 1][id, default: []].append(contentsOf: evs.map { "e\($0.kv.modRevision)" })
                case .progress(let id, let r): segments[segments.count - 1][id, default: []].append("p\(r)")
                case .created(let id, _, _, _): segments[segments.count - 1][id, default: []].append("c")
                case .canceled(let id, _), .compacted(let id, _): segments[segments.count - 1][id, default: []].append("x")
                }
            }
            return segments
        }
        #expect(signature(out) == signature(input))
        for o in out {
            if case .events(_, let evs, let r) = o {
                #expect(evs.count <= 5)
                #expect(r == evs.last?.kv.modRevision)
            }
        }
    }
}

/// A small seeded generator for the random tests here.
struct SeedRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
}
