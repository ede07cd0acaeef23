import Raft
import Support

extension RaftLoop {
    /// Steps a peer's message. Errors only drop the message (a stale or
    /// unknown peer's response), except a log that lost acknowledged
    /// entries: the member can neither catch up nor vote safely with it, so
    /// the process stops as etcd's does, with the way back.
    func stepPeer(_ m: Message) {
        do {
            try node.step(m)
        } catch RaftError.logLost(let commit, let lastIndex) {
            ProcessStop.fatal(Self.logLostMessage(commit: commit, lastIndex: lastIndex, leader: m.from, walDir: wal.dir))
        } catch {}
    }

    /// etcd's raft panic text, then what it means here and the remedy.
    static func logLostMessage(commit: UInt64, lastIndex: UInt64, leader: UInt64, walDir: String) -> String {
        "tocommit(\(commit)) is out of range [lastIndex(\(lastIndex))]. Was the raft log corrupted, truncated, or lost? "
            + "The leader \(String(leader, radix: 16)) has committed entries up to index \(commit) that this member "
            + "acknowledged, but its WAL \(walDir) ends at index \(lastIndex). To recover, " + DataFileError.rebuildMember
    }
}
