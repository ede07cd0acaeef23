import Config

/// When to compact, as etcd's v3compactor decides (pure; the clock and the
/// store's revision are passed in).
///
/// - periodic(P): at the start and after every check (every
///   `checkIntervalSeconds` = min(P, 1 h)/10) the current revision is
///   recorded, the last P/interval + 1 kept, on followers too (etcd's paused
///   compactor keeps sampling); once P has passed since the start
///   (afterwards min(P, 1 h) since the last success) the leader compacts to
///   the oldest one recorded before this check: the revision from P ago the
///   first time, from P + one interval ago afterwards, as etcd's. A
///   revision already compacted counts as a success (etcd's ErrCompacted).
/// - revisions(N): every 5 minutes, compact to current − N when that moved.
struct AutoCompactionPlan {
    enum Mode {
        case periodic(seconds: Double)
        case revisions(Int64)
    }

    let mode: Mode
    private var revs: [Int64] = []
    private var lastSuccessSeconds: Double
    private var waitSeconds: Double
    private var lastCompacted: Int64 = 0

    /// nil when auto-compaction is off. `currentRevision`: the store's now,
    /// periodic mode's first sample.
    init?(_ retention: AutoCompactionRetention, nowSeconds: Double, currentRevision: Int64 = 0) {
        switch retention {
        case .disabled: return nil
        case .period(let d):
            let (s, atto) = d.components
            let seconds = Double(s) + Double(atto) / 1e18
            guard seconds > 0 else { return nil }
            mode = .periodic(seconds: seconds)
            waitSeconds = seconds
        case .revisions(let n):
            guard n > 0 else { return nil }
            mode = .revisions(n)
            waitSeconds = 0
        }
        lastSuccessSeconds = nowSeconds
        if case .periodic = mode { revs = [currentRevision] }
    }

    var checkIntervalSeconds: Double {
        switch mode {
        case .periodic(let p): return min(p, 3600) / 10
        case .revisions: return 300
        }
    }

    /// Called every `checkIntervalSeconds`, on every member (`leading`: only
    /// a leader compacts); the revision to compact to, if any.
    mutating func check(nowSeconds: Double, currentRevision: Int64, leading: Bool = true) -> Int64? {
        switch mode {
        case .periodic(let period):
            defer {
                revs.append(currentRevision)
                let keep = Int((period / checkIntervalSeconds).rounded()) + 1
                if revs.count > keep { revs.removeFirst(revs.count - keep) }
            }
            guard leading, nowSeconds - lastSuccessSeconds >= waitSeconds, let oldest = revs.first else { return nil }
            guard oldest > lastCompacted else {
                compacted(lastCompacted, nowSeconds: nowSeconds)
                return nil
            }
            return oldest
        case .revisions(let n):
            guard leading else { return nil }
            let rev = currentRevision - n
            return rev > 0 && rev != lastCompacted ? rev : nil
        }
    }

    /// The compaction to `revision` succeeded (or was already done).
    mutating func compacted(_ revision: Int64, nowSeconds: Double) {
        lastCompacted = revision
        lastSuccessSeconds = nowSeconds
        if case .periodic(let period) = mode { waitSeconds = min(period, 3600) }
    }
}
