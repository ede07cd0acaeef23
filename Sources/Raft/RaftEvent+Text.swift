/// etcd's raft logger wording for each event (etcd-io/raft `raft.go`,
/// `node.go`), so scripts and people that grep etcd's logs find the same
/// lines here. Member IDs print in hex, configuration member lists in
/// decimal, as etcd's do.
extension RaftEvent {
    public func text(localID: UInt64) -> String {
        let me = hex(localID)
        switch self {
        case let .started(peers, term, commit, applied, lastIndex, lastTerm):
            let list = peers.map(hex).joined(separator: ",")
            return "newRaft \(me) [peers: [\(list)], term: \(term), commit: \(commit), applied: \(applied), lastindex: \(lastIndex), lastterm: \(lastTerm)]"
        case .becameFollower(let term): return "\(me) became follower at term \(term)"
        case .becamePreCandidate(let term): return "\(me) became pre-candidate at term \(term)"
        case .becameCandidate(let term): return "\(me) became candidate at term \(term)"
        case .becameLeader(let term): return "\(me) became leader at term \(term)"
        case .startingElection(let term): return "\(me) is starting a new election at term \(term)"
        case .cannotCampaign(let term):
            return "\(me) cannot campaign at term \(term) since there are still pending configuration changes to apply"
        case let .sentVoteRequest(preVote, to, term, lastIndex, lastTerm):
            return "\(me) [logterm: \(lastTerm), index: \(lastIndex)] sent \(voteName(preVote)) request to \(hex(to)) at term \(term)"
        case let .receivedVote(preVote, from, granted, term):
            let kind = preVote ? "MsgPreVoteResp" : "MsgVoteResp"
            return "\(me) received \(kind)\(granted ? "" : " rejection") from \(hex(from)) at term \(term)"
        case let .voteTally(preVote, granted, rejected):
            let kind = preVote ? "MsgPreVoteResp" : "MsgVoteResp"
            return "\(me) has received \(granted) \(kind) votes and \(rejected) vote rejections"
        case let .castVote(preVote, granted, candidate, cIndex, cTerm, lastIndex, lastTerm, vote, term):
            let verb = granted ? "cast \(voteName(preVote)) for" : "rejected \(voteName(preVote)) from"
            return "\(me) [logterm: \(lastTerm), index: \(lastIndex), vote: \(hex(vote))] \(verb) \(hex(candidate)) [logterm: \(cTerm), index: \(cIndex)] at term \(term)"
        case let .higherTermMessage(type, from, messageTerm, term):
            return "\(me) [term: \(term)] received a \(type.etcdName) message with higher term from \(hex(from)) [term: \(messageTerm)]"
        case let .ignoredVoteInLease(preVote, from, remaining, term):
            return "\(me) ignored \(voteName(preVote)) from \(hex(from)) at term \(term): lease is not expired (remaining ticks: \(remaining))"
        case .steppedDownQuorumInactive:
            return "\(me) stepped down to follower since quorum is not active"
        case let .transferStarted(to, term): return "\(me) [term \(term)] starts to transfer leadership to \(hex(to))"
        case let .transferAborted(to, term): return "\(me) [term \(term)] abort previous transferring leadership to \(hex(to))"
        case .timeoutNowSent(let to):
            return "\(me) sends MsgTimeoutNow to \(hex(to)) immediately as \(hex(to)) already has up-to-date log"
        case let .timeoutNowReceived(from, term):
            return "\(me) [term \(term)] received MsgTimeoutNow from \(hex(from)) and starts an election to get leadership."
        case let .snapshotSent(to, firstIndex, commit, index, term):
            return "\(me) [firstindex: \(firstIndex), commit: \(commit)] sent snapshot[index: \(index), term: \(term)] to \(hex(to))"
        case let .snapshotRestored(commit, lastIndex, lastTerm, index, term):
            return "\(me) [commit: \(commit), lastindex: \(lastIndex), lastterm: \(lastTerm)] restored snapshot [index: \(index), term: \(term)]"
        case let .snapshotIgnored(commit, index, term):
            return "\(me) [commit: \(commit)] ignored snapshot [index: \(index), term: \(term)]"
        case let .snapshotStatus(peer, failed):
            return "\(me) snapshot \(failed ? "failed" : "succeeded"), resumed sending replication messages to \(hex(peer))"
        case let .followerLostAcknowledged(peer, match, lastIndex):
            return "\(me) follower \(hex(peer)) rejected an append: its log ends at \(lastIndex), below the index \(match) it acknowledged. Was its raft log corrupted, truncated, or lost? Sending it the entries again"
        case let .switchedConfiguration(voters, learners):
            var text = "\(me) switched to configuration voters=(\(voters.sorted().map(String.init).joined(separator: " ")))"
            if !learners.isEmpty { text += " learners=(\(learners.sorted().map(String.init).joined(separator: " ")))" }
            return text
        case let .leaderChanged(from, to, term):
            if to == 0 { return "raft.node: \(me) lost leader \(hex(from)) at term \(term)" }
            if from == 0 { return "raft.node: \(me) elected leader \(hex(to)) at term \(term)" }
            return "raft.node: \(me) changed leader from \(hex(from)) to \(hex(to)) at term \(term)"
        }
    }

    private func hex(_ id: UInt64) -> String { String(id, radix: 16) }
    private func voteName(_ preVote: Bool) -> String { preVote ? "MsgPreVote" : "MsgVote" }
}

extension MessageType {
    /// etcd's raftpb name (`MsgApp`, `MsgHeartbeat`, …).
    var etcdName: String {
        switch self {
        case .hup: return "MsgHup"
        case .beat: return "MsgBeat"
        case .prop: return "MsgProp"
        case .app: return "MsgApp"
        case .appResp: return "MsgAppResp"
        case .vote: return "MsgVote"
        case .voteResp: return "MsgVoteResp"
        case .snap: return "MsgSnap"
        case .heartbeat: return "MsgHeartbeat"
        case .heartbeatResp: return "MsgHeartbeatResp"
        case .unreachable: return "MsgUnreachable"
        case .snapStatus: return "MsgSnapStatus"
        case .checkQuorum: return "MsgCheckQuorum"
        case .transferLeader: return "MsgTransferLeader"
        case .timeoutNow: return "MsgTimeoutNow"
        case .readIndex: return "MsgReadIndex"
        case .readIndexResp: return "MsgReadIndexResp"
        case .preVote: return "MsgPreVote"
        case .preVoteResp: return "MsgPreVoteResp"
        }
    }
}
