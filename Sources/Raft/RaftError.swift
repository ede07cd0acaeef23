/// Errors the core returns to its caller (and the storage returns to the core).
public enum RaftError: Error, Sendable, Equatable {
    /// No leader known, a leadership transfer is in progress, or the
    /// uncommitted-size limit is reached: retry later.
    case proposalDropped
    /// The requested index is below the storage's first index (compacted away).
    case compacted
    /// The requested index is past the storage's last index.
    case unavailable
    /// The snapshot is being built; the leader retries later.
    case snapshotTemporarilyUnavailable
    /// A snapshot older than the storage's current one was offered.
    case snapshotOutOfDate
    /// `step` was given a message type that only the node itself may generate.
    case stepLocalMessage
    /// A response from a peer that is not in the configuration.
    case stepPeerNotFound
    /// The configuration is not valid (message says why).
    case invalidConfig(String)
    /// `bootstrap` on a node that already has state.
    case alreadyBootstrapped
    /// A message or conf change could not be decoded.
    case malformed(String)
}
