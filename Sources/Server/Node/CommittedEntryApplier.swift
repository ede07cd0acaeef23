import Raft

/// What the loop hands committed entries to, in log order, one call at a
/// time: on the apply thread (`ApplyStage`) or, while nothing runs there,
/// on the loop thread (`ApplyRoute`). Conf change entries come along (as
/// no-ops) after the loop applied them to Raft itself.
protocol CommittedEntryApplier: AnyObject {
    func apply(_ entries: [Entry], term: UInt64)
    /// Applies entries that are not committed yet but will be once the
    /// fsync running meanwhile returns, without making anything visible:
    /// nil if it cannot (they are then applied the usual way once committed).
    func prepare(_ entries: [Entry], term: UInt64) -> PreparedApply?
}

extension CommittedEntryApplier {
    func prepare(_ entries: [Entry], term: UInt64) -> PreparedApply? { nil }
}

/// Entries applied ahead of their commit (`CommittedEntryApplier.prepare`):
/// `finish` makes them visible and answers their proposers (only after
/// their fsync returned); `abort` drops them. Exactly one runs, on the loop thread.
struct PreparedApply {
    let finish: () -> Void
    let abort: () -> Void
}
