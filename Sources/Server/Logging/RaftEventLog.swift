import Logging
import Raft

/// Logs the Raft core's decisions (`RaftEvent`) as etcd's raft logger does:
/// `"logger":"raft"`, the message worded as etcd words it, at info
/// (etcd's raft logger logs these at info; a lost quorum at warn).
struct RaftEventLog {
    private var logger: Logger
    private let localID: UInt64

    init(logger: Logger, localID: UInt64) {
        var named = logger
        named[metadataKey: "logger"] = "raft"
        self.logger = named
        self.localID = localID
    }

    func log(_ events: [RaftEvent]) {
        for event in events {
            switch event {
            case .steppedDownQuorumInactive, .followerLostAcknowledged: logger.warning("\(event.text(localID: localID))")
            default: logger.info("\(event.text(localID: localID))")
            }
        }
    }
}
