import Foundation
import Raft
import Testing
@testable import Server

/// A leader of three answers a follower's ReadIndex request (asked in its
/// term) on the thread that delivers it, from its `ReadIndexGrant`, without
/// waking the Raft loop; anything else still goes to the loop.
@Suite(.serialized) struct RaftLoopReadGrantTests {
    @Test func leaderAnswersAFollowersReadIndexOnTheDeliveringThread() throws {
        let cluster = try FaultyCluster(size: 3)
        defer { cluster.stop() }
        let sent = SentOnThread()
        cluster.network.observer = { m in sent.record(m) }
        let leader = try cluster.waitForLeader()
        cluster.loops[leader]!.propose(id: 1, data: Array("a".utf8))
        try cluster.waitUntil { cluster.applied.values.allSatisfy { $0.count >= 1 } }
        let follower = cluster.ids.first { $0 != leader }!
        let status = cluster.loops[leader]!.status

        let context = RaftLoop.readContext(batch: 1_000_000, memberID: follower)
        let request = Message(type: .readIndex, to: leader, from: follower, logTerm: status.term, context: context)
        let answers = sent.onThisThread { cluster.loops[leader]!.deliver([request]) }
        let answer = try #require(answers.first { $0.type == .readIndexResp })
        #expect(answer.to == follower && answer.from == leader && answer.term == status.term)
        #expect(answer.context == context && answer.index >= status.commitIndex)

        // Another term's request is the loop's (a heartbeat round), not answered here.
        let stale = Message(type: .readIndex, to: leader, from: follower, logTerm: status.term - 1, context: context)
        #expect(sent.onThisThread { cluster.loops[leader]!.deliver([stale]) }.isEmpty)
        // A follower has no grant.
        let toFollower = Message(type: .readIndex, to: follower, from: leader, logTerm: status.term, context: context)
        #expect(sent.onThisThread { cluster.loops[follower]!.deliver([toFollower]) }.isEmpty)
    }
}

/// The messages a block sends on the calling thread.
private final class SentOnThread: @unchecked Sendable {
    private let lock = NSLock()
    private var thread: pthread_t?  // guarded by `lock`
    private var messages: [Message] = []  // guarded by `lock`

    func record(_ m: Message) {
        let me = pthread_self()
        lock.withLock {
            if let thread, pthread_equal(thread, me) != 0 { messages.append(m) }
        }
    }

    func onThisThread(_ body: () -> Void) -> [Message] {
        lock.withLock {
            thread = pthread_self()
            messages = []
        }
        body()
        return lock.withLock {
            thread = nil
            return messages
        }
    }
}
