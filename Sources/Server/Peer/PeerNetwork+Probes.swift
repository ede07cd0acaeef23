import Foundation
import NIOCore
import NIOPosix

/// State for the peer probes (frames 14–17): round-trip pings, whose
/// answers feed `etcd_network_peer_round_trip_time_seconds{To}`, and the
/// corruption check's HashKV requests to peers.
final class PeerProbes: @unchecked Sendable {
    /// Where round-trip times go; set before `startPinging`.
    var roundTrip: LabeledHistograms?
    /// Answers a peer's HashKV request (runs off the event loop); set before `start`.
    var onHashRequest: @Sendable (Int64) -> PeerHashAnswer = { _ in
        PeerHashAnswer(outcome: .failed, revision: 0, compactRevision: 0, hash: 0)
    }
    let hashWaits = WaitRegistry<PeerHashAnswer>()
    private let lock = NSLock()
    private var nextID: UInt64 = 0  // guarded by `lock`
    private var timer: RepeatedTask?  // guarded by `lock`
    /// Hash requests being answered, by (peer, request ID): a request
    /// resent while its answer is computed must not start a second scan.
    private var answering: Set<[UInt64]> = []  // guarded by `lock`

    /// Scans (whole-store hashes) running for one peer at most: a peer
    /// asks one revision at a time, so more are a flood of request IDs
    /// that would queue scans without bound; the asker resends anyway.
    static let maxAnswersPerPeer = 2

    func beginAnswer(_ peer: UInt64, _ requestID: UInt64) -> Bool {
        lock.withLock {
            guard answering.count(where: { $0[0] == peer }) < Self.maxAnswersPerPeer else { return false }
            return answering.insert([peer, requestID]).inserted
        }
    }

    func endAnswer(_ peer: UInt64, _ requestID: UInt64) {
        _ = lock.withLock { answering.remove([peer, requestID]) }
    }

    func newRequestID() -> UInt64 { lock.withLock { nextID += 1; return nextID } }

    func setTimer(_ t: RepeatedTask?) {
        let old = lock.withLock { () -> RepeatedTask? in
            let old = timer
            timer = t
            return old
        }
        old?.cancel()
    }
}

extension PeerNetwork {
    /// rafthttp probes each peer every few seconds; so do we.
    static let pingIntervalSeconds = 2.0

    /// Pings every peer periodically until `stopPinging`.
    func startPinging(intervalSeconds: Double = PeerNetwork.pingIntervalSeconds) {
        let interval = TimeAmount.nanoseconds(Int64(intervalSeconds * 1e9))
        let t = group.next().scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            guard let self else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            for id in self.peerIDs { self.sendFrame(.ping(sentNanos: now), to: id) }
        }
        probes.setTimer(t)
    }

    func stopPinging() { probes.setTimer(nil) }

    /// Asks `peer` for its HashKV at `revision`; throws `timeout` if no
    /// answer comes within `timeoutSeconds` (peer down or unreachable).
    /// Control frames are dropped while the link is down (at start-up it is
    /// still connecting), so the request is resent with a doubling delay
    /// until answered; the answer is idempotent.
    func hashKV(of peer: UInt64, revision: Int64, timeoutSeconds: Double) async throws -> PeerHashAnswer {
        let id = probes.newRequestID()
        let waits = probes.hashWaits
        let deadline = NIODeadline.after(seconds: timeoutSeconds)
        // Runs before the Raft loop ticks (the initial corruption check), so
        // the resender, not the loop's sweep, enforces the deadline. It is
        // started only once the wait is registered: it stops as soon as the
        // ID is not registered, so started earlier it could find nothing,
        // exit without sending, and leave the wait with no answer and no
        // deadline forever (a compaction hash check hung that way under load).
        var resender: Task<Void, Never>?
        defer { resender?.cancel() }
        return try await waits.wait(id: id) {
            resender = Self.resendHashRequest(self, id: id, revision: revision, to: peer, deadline: deadline, waits: waits)
        }
    }

    /// Sends the hash request until `waits` no longer holds `id` (answered),
    /// failing it with `timeout` at `deadline`.
    private static func resendHashRequest(_ network: PeerNetwork, id: UInt64, revision: Int64, to peer: UInt64,
                                          deadline: NIODeadline, waits: WaitRegistry<PeerHashAnswer>) -> Task<Void, Never> {
        Task.detached { [weak network] in
            var delay = TimeAmount.milliseconds(250)
            while waits.isRegistered(id) {
                let now = NIODeadline.now()
                guard now < deadline else {
                    waits.trigger(id: id, .failure(ServerError.timeout))
                    return
                }
                network?.sendFrame(.hashRequest(requestID: id, revision: revision), to: peer)
                let sleep = min(delay, deadline - now)
                try? await Task.sleep(nanoseconds: UInt64(max(0, sleep.nanoseconds)))
                if Task.isCancelled { return }
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// A probe frame from an admitted peer (called on its connection's loop).
    func handleProbe(from remoteID: UInt64, _ frame: PeerFrame) {
        switch frame {
        case .ping(let nanos):
            sendFrame(.pong(sentNanos: nanos), to: remoteID)
        case .pong(let nanos):
            let rtt = NIODeadline.now().uptimeNanoseconds &- nanos
            probes.roundTrip?.histogram(String(remoteID, radix: 16)).observe(nanoseconds: rtt)
        case .hashRequest(let requestID, let revision):
            let state = probes
            guard state.beginAnswer(remoteID, requestID) else { return }
            NIOThreadPool.singleton.submit { [weak self] _ in
                self?.sendFrame(.hashAnswer(requestID: requestID, state.onHashRequest(revision)), to: remoteID)
                // A resend after this may mean the answer was dropped (our link to
                // the asker was still connecting): answer that one again.
                state.endAnswer(remoteID, requestID)
            }
        case .hashAnswer(let requestID, let a):
            probes.hashWaits.trigger(id: requestID, .success(a))
        default:
            break
        }
    }
}
