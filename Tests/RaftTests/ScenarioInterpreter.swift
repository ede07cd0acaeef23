@testable import Raft

/// Interprets one scenario command (as etcd raft's datadriven tests) and
/// returns its output. Commands:
///   add-nodes N [prevote=true] [checkquorum=true]   bootstrap nodes 1...N
///   campaign ID | tick ID [N] | propose ID DATA | read-index ID CTX
///   propose-conf-change ID (v|l|r)NODE              add voter / learner, remove
///   transfer-leader FROM TO | isolate ID | heal
///   compact ID INDEX                                snapshot at INDEX, drop the log before it
///   process-ready ID...   print and handle each node's Ready
///   deliver-msgs [drop] ID...  deliver (or drop) the messages queued for the nodes
///   stabilize              process-ready + deliver-msgs on every node until quiet
///   status ID | log ID
final class ScenarioInterpreter {
    var nodes: [UInt64: RawNode] = [:]
    var storages: [UInt64: MemoryStorage] = [:]
    var queue: [Message] = []
    var isolated: Set<UInt64> = []

    func run(_ line: String) throws -> String {
        let words = line.split(separator: " ").map(String.init)
        guard let cmd = words.first else { return "" }
        let args = Array(words.dropFirst())
        let ids = args.compactMap { UInt64($0) }
        var out: [String] = []
        switch cmd {
        case "add-nodes":
            let n = UInt64(args[0])!
            let peers = Array(1...n)
            for id in peers {
                var c = RaftConfig(id: id, checkQuorum: args.contains("checkquorum=true"),
                                   preVote: args.contains("prevote=true"), randomSeed: 1)
                c.maxSizePerMsg = 1 << 20
                let s = MemoryStorage()
                storages[id] = s
                nodes[id] = try RawNode(config: c, storage: s)
                try nodes[id]!.bootstrap(peers: peers)
            }
            // Persist and apply the bootstrap entries quietly (twice: entries
            // become durable first, then they are handed out as committed).
            for id in peers { _ = processReady(id); _ = processReady(id) }
            queue.removeAll()
            out.append("added \(n) nodes")
        case "campaign":
            try nodes[ids[0]]!.campaign()
        case "tick":
            let n = ids.count > 1 ? Int(ids[1]) : 1
            for _ in 0..<n { nodes[ids[0]]!.tick() }
        case "propose":
            do { try nodes[ids[0]]!.propose(Array(args[1].utf8)) } catch { out.append("error: \(error)") }
        case "read-index":
            nodes[ids[0]]!.readIndex(context: Array(args[1].utf8))
        case "propose-conf-change":
            let spec = args[1]
            let node = UInt64(spec.dropFirst())!
            let type: ConfChangeType = spec.hasPrefix("v") ? .addNode : spec.hasPrefix("l") ? .addLearnerNode : .removeNode
            if nodes[node] == nil {
                let s = MemoryStorage()
                storages[node] = s
                nodes[node] = try RawNode(config: RaftConfig(id: node, checkQuorum: false, preVote: false, randomSeed: 1), storage: s)
            }
            do { try nodes[ids[0]]!.proposeConfChange(ConfChange(type: type, nodeID: node)) } catch { out.append("error: \(error)") }
        case "transfer-leader":
            nodes[ids[0]]!.transferLeader(to: ids[1])
        case "isolate":
            isolated.insert(ids[0])
        case "heal":
            isolated.removeAll()
        case "compact":
            let s = storages[ids[0]]!
            let st = nodes[ids[0]]!.status()
            guard ids[1] <= st.applied else { return "cannot compact past applied \(st.applied)" }
            try s.createSnapshot(index: ids[1], confState: st.confState, data: [])
            try s.compact(upTo: ids[1])
            out.append("log of \(ids[0]) now starts at \(try s.firstIndex())")
        case "process-ready":
            for id in ids { out += processReady(id) }
        case "deliver-msgs":
            let drop = args.contains("drop")
            for id in ids { out += deliver(to: id, drop: drop) }
        case "stabilize":
            out += stabilize()
        case "status":
            let s = nodes[ids[0]]!.status()
            out.append("\(s.id): \(s.role) term=\(s.term) vote=\(s.vote) lead=\(s.lead) commit=\(s.commit) applied=\(s.applied)")
            for (pid, p) in s.progress.sorted(by: { $0.key < $1.key }) {
                out.append("  \(pid): \(p.state) match=\(p.match) next=\(p.next)\(p.isLearner ? " learner" : "")")
            }
        case "log":
            let n = nodes[ids[0]]!
            let ents = n.raft.log.slice(n.firstIndex, n.lastIndex + 1, maxSizeBytes: Int.max)
            out += (ents ?? []).map(ScenarioFormat.entry)
            if out.isEmpty { out.append("log is empty") }
        default:
            out.append("unknown command \(cmd)")
        }
        return out.joined(separator: "\n")
    }

    private func processReady(_ id: UInt64) -> [String] {
        guard nodes[id]!.hasReady() else { return ["> \(id) has no Ready"] }
        let rd = nodes[id]!.ready()
        let s = storages[id]!
        try! s.persist(rd)
        queue.append(contentsOf: rd.messages)
        for e in rd.committedEntries where e.type == .confChange {
            nodes[id]!.applyConfChange(try! ConfChange(decoding: e.data))
        }
        nodes[id]!.advance(rd)
        return ["> \(id) handling Ready"] + ScenarioFormat.ready(rd).map { "  " + $0 }
    }

    private func deliver(to id: UInt64, drop: Bool) -> [String] {
        let mine = queue.filter { $0.to == id }
        queue.removeAll { $0.to == id }
        guard !mine.isEmpty else { return [] }
        var out = ["> \(id) \(drop ? "dropping" : "receiving") messages"]
        for m in mine {
            if drop || isolated.contains(m.from) || isolated.contains(m.to) {
                out.append("  dropped: " + ScenarioFormat.message(m))
                continue
            }
            out.append("  " + ScenarioFormat.message(m))
            do { try nodes[id]!.step(m) } catch { out.append("  error: \(error)") }
        }
        return out
    }

    private func stabilize() -> [String] {
        var out: [String] = []
        for _ in 0..<100 {
            var moved = false
            for id in nodes.keys.sorted() where nodes[id]!.hasReady() {
                out += processReady(id)
                moved = true
            }
            for id in nodes.keys.sorted() {
                let d = deliver(to: id, drop: false)
                if !d.isEmpty { moved = true }
                out += d
            }
            if !moved { break }
        }
        return out
    }
}
