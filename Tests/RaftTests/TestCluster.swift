@testable import Raft

/// A small in-memory cluster for unit tests: every node has a MemoryStorage;
/// `stabilize()` handles Readys (persist, send, apply, advance) and delivers
/// messages until nothing moves. Links can be cut per direction.
final class TestCluster {
    var nodes: [UInt64: RawNode] = [:]
    var storages: [UInt64: MemoryStorage] = [:]
    /// Applied normal entry payloads per node.
    var applied: [UInt64: [[UInt8]]] = [:]
    var readStates: [UInt64: [ReadState]] = [:]
    var confStates: [UInt64: ConfState] = [:]
    var queue: [Message] = []
    /// Directed links that drop everything.
    var cut: Set<[UInt64]> = []
    var down: Set<UInt64> = []
    /// Every message delivered, for assertions.
    var delivered: [Message] = []
    let configure: (inout RaftConfig) -> Void

    init(_ ids: [UInt64], configure: @escaping (inout RaftConfig) -> Void = { _ in }) throws {
        self.configure = configure
        for id in ids {
            try add(id)
            try nodes[id]!.bootstrap(peers: ids)
        }
        stabilize()
    }

    func config(_ id: UInt64) -> RaftConfig {
        var c = RaftConfig(id: id, electionTicks: 10, heartbeatTicks: 1, checkQuorum: false, preVote: false,
                           randomSeed: 42)
        configure(&c)
        return c
    }

    /// Adds an empty node (a new member, to be caught up by the leader).
    func add(_ id: UInt64) throws {
        let s = MemoryStorage()
        storages[id] = s
        nodes[id] = try RawNode(config: config(id), storage: s)
        applied[id] = []
    }

    /// Restarts a node from its storage (volatile state lost).
    func restart(_ id: UInt64) throws {
        var c = config(id)
        c.applied = try storages[id]!.snapshot().metadata.index
        nodes[id] = try RawNode(config: c, storage: storages[id]!)
        down.remove(id)
        applied[id] = [] // the state machine restarts from the snapshot (tests use empty ones)
    }

    func raft(_ id: UInt64) -> RaftCore { nodes[id]!.raft }
    func status(_ id: UInt64) -> RaftStatus { nodes[id]!.status() }

    var leader: UInt64? {
        nodes.keys.sorted().first { !down.contains($0) && nodes[$0]!.status().role == .leader }
    }

    func isolate(_ id: UInt64) {
        for other in nodes.keys where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    func heal() { cut.removeAll() }

    /// Handles one node's Ready like a well-behaved application.
    @discardableResult
    func handleReady(_ id: UInt64) -> Bool {
        guard !down.contains(id), nodes[id]!.hasReady() else { return false }
        let rd = nodes[id]!.ready()
        let s = storages[id]!
        try! s.persist(rd)
        queue.append(contentsOf: rd.messages)
        for e in rd.committedEntries {
            switch e.type {
            case .normal where !e.data.isEmpty: applied[id]!.append(e.data)
            case .normal: break
            case .confChange: confStates[id] = nodes[id]!.applyConfChange(try! ConfChange(decoding: e.data))
            }
        }
        readStates[id, default: []].append(contentsOf: rd.readStates)
        nodes[id]!.advance(rd)
        return true
    }

    /// Delivers the queued messages once (those sent meanwhile wait).
    func deliverAll(filter: (Message) -> Bool = { _ in true }) {
        let batch = queue
        queue.removeAll()
        for m in batch {
            guard !cut.contains([m.from, m.to]), !down.contains(m.to), nodes[m.to] != nil, filter(m) else { continue }
            delivered.append(m)
            try? nodes[m.to]!.step(m)
        }
    }

    func stabilize(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            var moved = false
            for id in nodes.keys.sorted() where handleReady(id) { moved = true }
            if !queue.isEmpty { moved = true }
            deliverAll()
            if !moved { return }
        }
        fatalError("cluster did not stabilize")
    }

    func tick(_ id: UInt64, _ n: Int = 1) {
        for _ in 0..<n { nodes[id]!.tick() }
    }

    func tickAll(_ n: Int) {
        for _ in 0..<n {
            for id in nodes.keys.sorted() where !down.contains(id) { nodes[id]!.tick() }
            stabilize()
        }
    }

    func campaign(_ id: UInt64) {
        try! nodes[id]!.campaign()
        stabilize()
    }

    func propose(_ id: UInt64, _ s: String) throws {
        try nodes[id]!.propose(Array(s.utf8))
        stabilize()
    }

    func appliedStrings(_ id: UInt64) -> [String] { applied[id]!.map { String(decoding: $0, as: UTF8.self) } }
}
