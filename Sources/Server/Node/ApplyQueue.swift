import Raft

/// The committed entries handed to `ApplyStage` and not yet taken, in log
/// order. Pure; the stage guards it with its lock.
///
/// `take` merges what queued up behind a long apply into one job (same
/// term, at most `maxMergedEntries`): one store commit and one hand-over of
/// answers instead of one per Ready the loop handled meanwhile.
struct ApplyQueue {
    /// Entries to apply together, answered with the Raft term they were
    /// handed over in (the response header's `raft_term`).
    struct Job: Equatable {
        var entries: [Entry]
        var term: UInt64
        var lastIndex: UInt64 { entries[entries.count - 1].index }
    }

    /// Jobs merged by `take` stop growing past this many entries (a longer
    /// job is taken whole).
    static let maxMergedEntries = 4096

    private var jobs: [Job] = []
    private var head = 0

    var isEmpty: Bool { head == jobs.count }

    /// The last index queued, nil when empty.
    var lastIndex: UInt64? { isEmpty ? nil : jobs[jobs.count - 1].lastIndex }

    /// Queues `entries` (none is a no-op). They must follow everything queued.
    mutating func append(_ entries: [Entry], term: UInt64) {
        guard let first = entries.first else { return }
        if let last = lastIndex { precondition(first.index > last, "ApplyQueue: entry \(first.index) after \(last)") }
        jobs.append(Job(entries: entries, term: term))
    }

    /// The oldest job, with the jobs of the same term after it merged in
    /// (up to `maxMergedEntries`); nil when empty.
    mutating func take() -> Job? {
        guard !isEmpty else { return nil }
        var job = jobs[head]
        head += 1
        while head < jobs.count, jobs[head].term == job.term,
              job.entries.count + jobs[head].entries.count <= Self.maxMergedEntries {
            job.entries.append(contentsOf: jobs[head].entries)
            head += 1
        }
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 {  // never emptied under a steady load: drop the taken ones
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
