/// The three classic register anomalies, recognised directly so that a
/// violation is explained in at most three operations without a search:
///
/// - phantom read: an op observed a value nobody wrote;
/// - early read: it observed a value whose only write was invoked after
///   the observer returned;
/// - stale read: a definite write of something else (or, for an observed
///   absence, any definite write) happened entirely between the write of the
///   observed value and the observer.
///
/// "Observed v" means a get returned v or a compare-and-set swapped from v.
/// The last two rely on v having exactly one writer (linhistory writes
/// unique values): then that writer must be the last write linearized
/// before the observer, which the pattern rules out. A writer with an
/// unknown outcome counts as returned when its value was first observed
/// (it must precede that observer), and that observer joins the witness. The model has no
/// deletes, so once anything is written the key never reads as absent.
enum Anomaly {
    /// The anomaly whose observer returned first, as its 1–4 operations.
    static func earliest(in ops: [Operation]) -> [Operation]? {
        var writers: [String: [Operation]] = [:]
        var definiteWrites: [Operation] = []
        for op in ops {
            guard let v = op.writtenValue else { continue }
            writers[v, default: []].append(op)
            if op.outcome != .unknown { definiteWrites.append(op) }
        }
        let observers = ops.filter { observed($0) != nil }.sorted { ($0.returnNs ?? .max) < ($1.returnNs ?? .max) }
        var firstObserver: [String: Operation] = [:]
        for o in observers { if case .some(let v?) = observed(o), firstObserver[v] == nil { firstObserver[v] = o } }
        for observer in observers {
            guard let end = observer.returnNs, let value = observed(observer) else { continue }
            /// A definite write of another value entirely between `afterNs` and the observer.
            func overwrite(after afterNs: Int64, excluding: Operation?) -> Operation? {
                definiteWrites.first { $0 != excluding && $0.invokeNs > afterNs && ($0.returnNs ?? .max) < observer.invokeNs }
            }
            guard let v = value else {
                if let x = overwrite(after: .min, excluding: nil) { return [x, observer] }
                continue
            }
            let ws = writers[v] ?? []
            if ws.isEmpty { return [observer] }
            guard ws.count == 1, let w = ws.first else { continue }
            if w.invokeNs > end { return [w, observer] }
            if let wEnd = w.returnNs, let x = overwrite(after: wEnd, excluding: w) { return [w, x, observer] }
            if w.returnNs == nil, let first = firstObserver[v], first != observer, let firstEnd = first.returnNs,
               let x = overwrite(after: firstEnd, excluding: w) {
                return [w, first, x, observer]
            }
        }
        return nil
    }

    /// The value an op observed (`.some(nil)`: the key absent), if it observed one.
    private static func observed(_ op: Operation) -> String?? {
        switch (op.call, op.outcome) {
        case (.get, .read(let v)): return .some(v)
        case (.compareAndSet(let e, _), .swapped(true)): return .some(e)
        default: return nil
        }
    }
}
