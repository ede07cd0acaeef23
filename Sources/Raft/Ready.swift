/// Everything the application must do for the node, in this order:
/// 1. persist `snapshot` (if any), then `entries` and `hardState` (fsync if
///    `mustSync`);
/// 2. send `messages` (they may depend on what was just persisted);
/// 3. apply `snapshot` and `committedEntries` to the state machine (calling
///    `applyConfChange` for conf change entries), and serve `readStates`
///    once applied up to their index;
/// 4. call `advance(ready)`.
/// See Sources/Raft/README.md.
public struct Ready: Sendable {
    /// Changed leader/role, nil if unchanged.
    public var softState: SoftState?
    /// Changed term/vote/commit, nil if unchanged.
    public var hardState: HardState?
    /// Entries to append to stable storage (may replace a conflicting suffix).
    public var entries: [Entry]
    /// A snapshot from the leader to persist and apply.
    public var snapshot: Snapshot?
    /// Committed entries to apply, in order. Always already durable here.
    public var committedEntries: [Entry]
    public var messages: [Message]
    public var readStates: [ReadState]
    /// Whether the hard state or entries must be fsynced before sending.
    public var mustSync: Bool

    public init(softState: SoftState? = nil, hardState: HardState? = nil, entries: [Entry] = [],
                snapshot: Snapshot? = nil, committedEntries: [Entry] = [], messages: [Message] = [],
                readStates: [ReadState] = [], mustSync: Bool = false) {
        self.softState = softState
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
        self.committedEntries = committedEntries
        self.messages = messages
        self.readStates = readStates
        self.mustSync = mustSync
    }

    public var containsUpdates: Bool {
        softState != nil || hardState != nil || !entries.isEmpty || snapshot != nil
            || !committedEntries.isEmpty || !messages.isEmpty || !readStates.isEmpty
    }
}
