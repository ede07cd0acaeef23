@testable import Raft

/// Text rendering of Raft values for the scenario tests (stable: the
/// expected outputs in testdata/*.txt depend on it).
enum ScenarioFormat {
    static func entry(_ e: Entry) -> String {
        switch e.type {
        case .normal:
            return "\(e.term)/\(e.index) EntryNormal \"\(String(decoding: e.data, as: UTF8.self))\""
        case .confChange:
            if let cc = try? ConfChange(decoding: e.data) {
                return "\(e.term)/\(e.index) EntryConfChange \(confChange(cc))"
            }
            return "\(e.term)/\(e.index) EntryConfChange <invalid>"
        }
    }

    static func confChange(_ cc: ConfChange) -> String {
        switch cc.type {
        case .addNode: return "v\(cc.nodeID)"
        case .addLearnerNode: return "l\(cc.nodeID)"
        case .removeNode: return "r\(cc.nodeID)"
        }
    }

    static func typeName(_ t: MessageType) -> String {
        let s = "\(t)"
        return "Msg" + s.prefix(1).uppercased() + s.dropFirst()
    }

    static func message(_ m: Message) -> String {
        var s = "\(m.from)->\(m.to) \(typeName(m.type)) Term:\(m.term) Log:\(m.logTerm)/\(m.index)"
        if m.commit != 0 { s += " Commit:\(m.commit)" }
        if m.reject { s += " Rejected (Hint: \(m.rejectHint))" }
        if !m.context.isEmpty { s += " Context:\"\(String(decoding: m.context, as: UTF8.self))\"" }
        if !m.entries.isEmpty { s += " Entries:[" + m.entries.map(entry).joined(separator: ", ") + "]" }
        if let snap = m.snapshot {
            s += " Snapshot: Index:\(snap.metadata.index) Term:\(snap.metadata.term) ConfState:\(confState(snap.metadata.confState))"
        }
        return s
    }

    static func confState(_ cs: ConfState) -> String {
        var s = "Voters:\(cs.voters)"
        if !cs.learners.isEmpty { s += " Learners:\(cs.learners)" }
        return s
    }

    static func ready(_ rd: Ready) -> [String] {
        var out = ["Ready MustSync=\(rd.mustSync):"]
        if let ss = rd.softState { out.append("Lead:\(ss.lead) State:\(ss.role)") }
        if let hs = rd.hardState { out.append("HardState Term:\(hs.term) Vote:\(hs.vote) Commit:\(hs.commit)") }
        if let snap = rd.snapshot { out.append("Snapshot Index:\(snap.metadata.index) Term:\(snap.metadata.term)") }
        if !rd.entries.isEmpty { out.append("Entries:"); out += rd.entries.map(entry) }
        if !rd.committedEntries.isEmpty { out.append("CommittedEntries:"); out += rd.committedEntries.map(entry) }
        if !rd.messages.isEmpty { out.append("Messages:"); out += rd.messages.map(message) }
        if !rd.readStates.isEmpty {
            out.append("ReadStates:")
            out += rd.readStates.map { "Index:\($0.index) Context:\"\(String(decoding: $0.context, as: UTF8.self))\"" }
        }
        return out
    }
}
