import Logging
import MVCC

/// The decisions of etcd's corruption checks (etcdserver/corrupt.go), kept
/// free of I/O so they can be tested with made-up hashes. `CorruptionMonitor`
/// gathers the hashes and acts on the findings.
enum CorruptionCheck {
    /// A member's HashKV: the hash of its history up to `revision` (its
    /// current one) and its compaction revision.
    struct HashPoint: Equatable {
        var hash: UInt32
        var revision: Int64
        var compactRevision: Int64

        init(hash: UInt32, revision: Int64, compactRevision: Int64) {
            self.hash = hash
            self.revision = revision
            self.compactRevision = compactRevision
        }

        init(_ h: KVHash) { self.init(hash: h.hash, revision: h.currentRevision, compactRevision: h.compactRevision) }
    }

    /// A peer's answer to "your HashKV at revision r", or why there is none.
    enum PeerResult: Equatable {
        case answer(PeerHashAnswer)
        case unreachable
    }

    /// What one peer's answer means for the check.
    enum Finding: Equatable {
        /// Same history: nothing to report.
        case consistent
        /// Hashes differ at the same compact revision: data inconsistency.
        case mismatch(String)
        /// Cannot compare (peer lags, compacted, different compaction, down); logged only.
        case skipped(String)
    }

    /// `--experimental-initial-corrupt-check`: this member's hash (at its
    /// own revision) against each peer's hash at that revision. Only a hash
    /// difference at the same compact revision is a mismatch.
    static func initialFinding(local: HashPoint, peer: PeerResult) -> Finding {
        switch peer {
        case .unreachable:
            return .skipped("failed hash kv request")
        case .answer(let a):
            switch a.outcome {
            case .futureRevision: return .skipped("cannot fetch hash from slow remote peer")
            case .compacted: return .skipped("cannot fetch hash from remote peer; local member is behind")
            case .failed: return .skipped("failed hash kv request")
            case .ok:
                guard a.hash != local.hash else { return .consistent }
                if a.compactRevision == local.compactRevision { return .mismatch("found different hash values from remote peer") }
                return .skipped("found different compact revision values from remote peer")
            }
        }
    }

    /// The leader's periodic check: `first` is its hash before asking the
    /// peers, `second` after a linearizable barrier. Returns the findings
    /// for the leader itself (hash changed without the revision moving) and
    /// for each follower, as etcd's `checkHashKV` judges them.
    static func periodicFindings(first: HashPoint, second: HashPoint, peers: [(UInt64, PeerResult)])
        -> (leader: Finding, followers: [(UInt64, Finding)]) {
        var leader = Finding.consistent
        if second.hash != first.hash && second.revision == first.revision
            && second.compactRevision == first.compactRevision {
            leader = .mismatch("found hash mismatch")
        }
        var followers: [(UInt64, Finding)] = []
        for (id, result) in peers {
            guard case .answer(let a) = result, a.outcome == .ok else {
                followers.append((id, .skipped("failed hash kv request")))
                continue
            }
            if a.revision > second.revision {
                followers.append((id, .mismatch("revision from follower must be less than or equal to leader's")))
            } else if a.compactRevision > second.compactRevision {
                followers.append((id, .mismatch("compact revision from follower must be less than or equal to leader's")))
            } else if a.compactRevision == first.compactRevision && a.hash != first.hash {
                followers.append((id, .mismatch("same compact revision then hashes must match")))
            } else {
                followers.append((id, .consistent))
            }
        }
        return (leader, followers)
    }

    /// etcd's start-up refusal, with the member ID in hex as etcd prints it.
    static func inconsistencyMessage(memberID: UInt64) -> String {
        "\(String(memberID, radix: 16)) found data inconsistency with peers"
    }

    /// The answer this member gives a peer asking for its HashKV at `revision`.
    static func answer(store: MVCCStore, revision: Int64) -> PeerHashAnswer {
        do {
            let h = try store.hashKV(revision: revision)
            return PeerHashAnswer(outcome: .ok, revision: h.currentRevision, compactRevision: h.compactRevision, hash: h.hash)
        } catch let e as MVCCError where e.kind == .futureRevision {
            return PeerHashAnswer(outcome: .futureRevision, revision: store.currentRevision, compactRevision: 0, hash: 0)
        } catch let e as MVCCError where e.kind == .compacted {
            return PeerHashAnswer(outcome: .compacted, revision: store.currentRevision, compactRevision: 0, hash: 0)
        } catch {
            return PeerHashAnswer(outcome: .failed, revision: 0, compactRevision: 0, hash: 0)
        }
    }
}
