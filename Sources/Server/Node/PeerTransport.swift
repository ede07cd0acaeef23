import Raft

/// Sends Raft messages to peers. Single-member clusters use `NoPeers`.
protocol PeerTransport: AnyObject, Sendable {
    func send(_ messages: [Message])
}

final class NoPeers: PeerTransport {
    func send(_ messages: [Message]) {}
}
