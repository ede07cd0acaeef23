import Config

/// When to compact, as etcd's v3compactor decides (pure; the clock and the
/// store's revision are passed in).
///
/// - periodic(P): every `checkIntervalSeconds` = min(P, 1 h)/10 the current
///   revision is recorded, keeping a window of P; once P has passed since
///   the start (afterwards min(P, 1 h) since the last success) it compacts to
///   the oldest revision in the window, i.e. the one from P ago.
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

    /// nil when auto-compaction is off.
    init?(_ retention: AutoCompactionRetention, nowSeconds: Double) {
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
    }

    var checkIntervalSeconds: Double {
        switch mode {
        case .periodic(let p): return min(p, 3600) / 10
        case .revisions: return 300
        }
    }

    /// Called every `checkIntervalSeconds`; the revision to compact to, if any.
    mutating func check(nowSeconds: Double, currentRevision: Int64) -> Int64? {
        switch mode {
        case .periodic(let period):
            revs.append(currentRevision)
            let keep = Int((period / checkIntervalSeconds).rounded()) + 1
            if revs.count > keep { revs.removeFirst(revs.count - keep) }
            guard nowSeconds - lastSuccessSeconds >= waitSeconds, let oldest = revs.first, oldest > lastCompacted else { return nil }
            return oldest
        case .revisions(let n):
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
