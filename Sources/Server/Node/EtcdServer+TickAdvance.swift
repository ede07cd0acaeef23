import Config
import Foundation
import Logging

/// etcd's `adjustTicks` (`--initial-election-tick-advance`, default on): a
/// member that starts among peers fast-forwards its election clock once it
/// is connected to them, so a cluster that comes up (or a member that
/// restarts into a leaderless cluster) elects after about a tick instead of
/// a full election timeout. Not advancing keeps a restarted follower from
/// disrupting a leader it has not heard from yet. A single member elects
/// itself at once anyway.
extension EtcdServer {
    func adjustTicks() {
        let electionTicks = max(options.electionTimeoutMs / max(options.heartbeatIntervalMs, 1), 2)
        let voters = membership.all.filter { !$0.isLearner }.count
        func duration(_ ticks: Int) -> Logger.MetadataValue { .duration(.milliseconds(ticks * options.heartbeatIntervalMs)) }
        if voters <= 1 {
            logger.info("started as single-node; fast-forwarding election ticks", metadata: [
                "local-member-id": .id(memberID), "forward-ticks": .int(electionTicks - 1),
                "forward-duration": duration(electionTicks - 1), "election-ticks": .int(electionTicks),
                "election-timeout": duration(electionTicks)])
            loop.advanceTicks(electionTicks - 1)
            return
        }
        guard options.initialElectionTickAdvance else {
            logger.info("skipping initial election tick advance", metadata: ["election-ticks": .int(electionTicks)])
            return
        }
        logger.info("starting initial election tick advance", metadata: ["election-ticks": .int(electionTicks)])
        // Wait up to the peer read timeout for connections to the peers;
        // without them advancing would change nothing.
        let waitNanos = GoDuration.nanoseconds(options.raftReadTimeout)
        Task.detached { [self] in
            let interval: UInt64 = 50_000_000
            for _ in 0..<max(1, waitNanos / Int64(interval)) {
                try? await Task.sleep(nanoseconds: interval)
                if stopping.isFired { return }
                let active = membership.all.filter { $0.id != memberID && peers?.activeSince($0.id) != nil }.count
                if active > 1 {
                    let ticks = electionTicks - 2
                    logger.info("initialized peer connections; fast-forwarding election ticks", metadata: [
                        "local-member-id": .id(memberID), "forward-ticks": .int(ticks), "forward-duration": duration(ticks),
                        "election-ticks": .int(electionTicks), "election-timeout": duration(electionTicks),
                        "active-remote-members": .int(active)])
                    loop.advanceTicks(ticks)
                    return
                }
            }
        }
    }
}
