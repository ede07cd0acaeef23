import Foundation
import NIOCore

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
    private var timer: DispatchSourceTimer?  // guarded by `lock`
    /// Hash requests being answered, by (peer, request ID): a request
    /// resent while its answer is computed must not start a second scan.
    private var answering: Set<[UInt64]> = []  // guarded by `lock`

    func beginAnswer(_ peer: UInt64, _ requestID: UInt64) -> Bool {
        lock.withLock { answering.insert([peer, requestID]).inserted }
    }

    func endAnswer(_ peer: UInt64, _ requestID: UInt64) {
        _ = lock.withLock { answering.remove([peer, requestID]) }
    }

    func newRequestID() -> UInt64 { lock.withLock { nextID += 1; return nextID } }

    func setTimer(_ t: DispatchSourceTimer?) {
        let old = lock.withLock { () -> DispatchSourceTimer? in
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
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + intervalSeconds, repeating: intervalSeconds)
        t.setEventHandler { [weak self] in
            guard let self else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            for id in self.peerIDs { self.sendFrame(.ping(sentNanos: now), to: id) }
        }
        probes.setTimer(t)
        t.resume()
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
        let deadline = DispatchTime.now() + timeoutSeconds
        @Sendable func attempt(_ delaySeconds: Double) {
            guard waits.isRegistered(id) else { return }
            guard DispatchTime.now() < deadline else {
                waits.trigger(id: id, .failure(ServerError.timeout))
                return
            }
            sendFrame(.hashRequest(requestID: id, revision: revision), to: peer)
            DispatchQueue.global().asyncAfter(deadline: min(deadline, .now() + delaySeconds)) {
                attempt(min(delaySeconds * 2, 2))
            }
        }
        return try await waits.wait(id: id) { attempt(0.25) }
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
            DispatchQueue.global().async { [weak self] in
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
