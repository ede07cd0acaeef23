import Auth
import Logging
import MVCC
import Raft

/// The result a proposer waits for: the store's answer and the Raft term it
/// was applied in (for the response header).
struct AppliedResult: Sendable {
    var response: Result<WriteResponse, ServerError>
    var term: UInt64
    /// What an applied auth operation answers (nil for every other entry).
    var auth: AuthAnswer? = nil
}

/// The one owner of applying committed entries ("where is a Put applied?"
/// → here): each entry is decoded once (`ApplyEntry`), goes through the
/// guards in order (`ApplyChain`: corruption → capped → auth), and what
/// passes reaches `ApplyBackend`; every proposer waiting on this member is
/// answered through `answer` (the member's `WaitRegistry`). An entry that cannot be decoded or fails is
/// answered with an error and recorded as applied; it never stops the
/// server, now or at restart.
///
/// Called on the apply thread (`ApplyStage`), or on the Raft loop while
/// that one is idle (`ApplyRoute`), one call at a time, in log order, with
/// the committed entries (conf changes among them are no-ops here).
final class ApplyPipeline: CommittedEntryApplier {
    private let chain: ApplyChain
    let backend: ApplyBackend
    /// Delivers an entry's answer to its proposer: (request ID ≠ 0, result).
    private let answer: (UInt64, AppliedResult) -> Void
    private let logger: Logger
    /// This member's proposals, already decoded (nil: every entry is decoded).
    let memo: ProposalMemo?

    init(chain: ApplyChain, backend: ApplyBackend, logger: Logger, memo: ProposalMemo? = nil,
         answer: @escaping (UInt64, AppliedResult) -> Void) {
        self.chain = chain
        self.backend = backend
        self.answer = answer
        self.logger = logger
        self.memo = memo
    }

    /// The member's standard pipeline: the alarm guards over `alarms`, the
    /// auth stage over `auth` (a fresh store, auth off, when nil), and the
    /// backend over the store, lessor and watch hub. `slow` words the
    /// slow-apply warnings (`--experimental-warning-apply-duration`);
    /// `batchLimit` caps requests per store commit (`--backend-batch-limit`).
    convenience init(store: MVCCStore, lessor: Lessor, hub: WatchHub, alarms: AlarmStore,
                     waits: WaitRegistry<AppliedResult>, auth: AuthStore? = nil, memo: ProposalMemo? = nil, logger: Logger,
                     slow: SlowWarnings? = nil, batchLimit: Int = 0, ops: MVCCOpMetrics = MVCCOpMetrics()) {
        let auth = auth ?? AuthStore(tokens: .simple(SimpleTokens(ttlSeconds: 300)), bcryptCost: PasswordHasher.defaultCost)
        let backend = ApplyBackend(store: store, lessor: lessor, hub: hub, alarms: alarms, auth: auth, logger: logger, slow: slow,
                                   ops: ops)
        backend.batchLimit = batchLimit
        self.init(chain: ApplyChain(corruption: CorruptionGuard(alarms: alarms), capped: CappedGuard(alarms: alarms),
                                    auth: AuthApplyStage(auth: auth, lessor: lessor)),
                  backend: backend, logger: logger, memo: memo) { id, result in waits.trigger(id: id, .success(result)) }
    }

    /// The entry decoded, or its proposer's decoded copy when it is one of ours.
    private func decode(_ raw: Entry) -> ApplyEntry {
        if raw.type == .normal, let memo, let message = memo.take(raw.data) {
            return ApplyEntry(index: raw.index, message: message, logger: logger)
        }
        return ApplyEntry(decoding: raw, logger: logger)
    }

    func apply(_ entries: [Entry], term: UInt64) {
        let respond: ApplyBackend.Respond = { [answer] id, result, auth in
            answer(id, AppliedResult(response: result, term: term, auth: auth))
        }
        // Entries the store already holds (Raft re-delivers them after a
        // restart) are not even decoded: nobody waits on them, alarms they
        // raised were persisted before their batch reached the store, and
        // decoding a whole replayed log was most of a restart's time.
        let applied = backend.appliedIndex
        for raw in entries where raw.index > applied {
            var entry = decode(raw)
            if chain.needsSettledState(entry) { backend.flush(respond: respond) }
            if let error = chain.refusal(for: entry) {
                if entry.id != 0 { respond(entry.id, .failure(error), nil) }
                entry = entry.refused()
            }
            backend.apply(entry, respond: respond)
        }
        backend.flush(respond: respond)
    }

    /// Applies `entries`, not committed yet, into an open store txn while
    /// the WAL write and fsync that commit them run (a sole voter's own
    /// entries): nothing becomes visible and nobody is answered until the
    /// returned value's `finish`, which the caller runs only once the fsync
    /// returned. nil (nothing done) unless every entry is a KV request or a
    /// no-op going into one store commit: leases, auth, alarms and the rest
    /// change state outside the store's txn, so they apply after the fsync
    /// as before.
    func prepare(_ entries: [Entry], term: UInt64) -> PreparedApply? {
        let applied = backend.appliedIndex
        var decoded: [ApplyEntry] = []
        decoded.reserveCapacity(entries.count)
        for raw in entries {
            guard raw.index > applied else { return nil }
            let entry = decode(raw)
            switch entry.request {
            case .write, .noop, .range, .unknown, .undecodable: break
            default: return nil
            }
            if chain.needsSettledState(entry) { return nil }
            decoded.append(entry)
        }
        if backend.batchLimit > 0 && decoded.count > backend.batchLimit { return nil }
        var answers: [(UInt64, Result<WriteResponse, ServerError>, AuthAnswer?)] = []
        let hold: ApplyBackend.Respond = { answers.append(($0, $1, $2)) }
        for var entry in decoded {
            if let error = chain.refusal(for: entry) {
                if entry.id != 0 { hold(entry.id, .failure(error), nil) }
                entry = entry.refused()
            }
            backend.apply(entry, respond: hold)
        }
        let run = backend.prepareRun()
        let held = answers
        return PreparedApply(finish: { [self] in
            let respond: ApplyBackend.Respond = { [answer] id, result, auth in
                answer(id, AppliedResult(response: result, term: term, auth: auth))
            }
            backend.finishPrepared(run, respond: respond)
            for (id, result, auth) in held { respond(id, result, auth) }
        }, abort: { [backend] in backend.abortPrepared(run) })
    }
}
