import Foundation
import NIOCore
import NIOPosix

/// A running cluster as a peer describes it to a joining member.
struct DiscoveredCluster {
    var clusterID: UInt64
    var members: [ClusterMember]
}

/// How a member started with `--initial-cluster-state existing` learns the
/// cluster it joins (etcd's `GetClusterFromRemotePeers`): asks each peer URL
/// of `--initial-cluster` in turn with a `membersRequest` and takes the first
/// answer.
enum PeerDiscovery {
    static func fetch(peerURLs: [String], dialer: PeerDialer, group: EventLoopGroup,
                      timeoutSeconds: Int64 = 2) throws -> DiscoveredCluster {
        var lastError: Error = StartupError("no peer URLs to ask")
        for url in peerURLs {
            guard let target = try? PeerDialer.target(url) else { continue }
            do {
                return try ask(target, dialer: dialer, group: group, timeoutSeconds: timeoutSeconds)
            } catch {
                lastError = error
            }
        }
        throw StartupError("cannot fetch cluster info from peer urls: could not retrieve cluster information from the given URLs (\(lastError))")
    }

    /// Blocks the calling thread (start-up only; never an event loop).
    private static func ask(_ target: PeerDialer.Target, dialer: PeerDialer, group: EventLoopGroup,
                            timeoutSeconds: Int64) throws -> DiscoveredCluster {
        let eventLoop = group.next()
        let answer = eventLoop.makePromise(of: ClusterPeerFrame.self)
        let channel: any Channel
        do {
            channel = try dialer.connect(target, on: eventLoop, timeout: .seconds(timeoutSeconds)) {
                AnswerHandler(promise: answer)
            }.wait()
        } catch {
            answer.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        var buffer = channel.allocator.buffer(capacity: 8)
        PeerFrame.cluster(.membersRequest).write(into: &buffer)
        channel.writeAndFlush(buffer, promise: nil)
        let timeout = eventLoop.scheduleTask(in: .seconds(timeoutSeconds)) {
            answer.fail(StartupError("no answer from \(target)"))
        }
        defer { timeout.cancel() }
        guard case .membersAnswer(let clusterID, let json) = try answer.futureResult.wait() else {
            throw StartupError("unexpected answer from \(target)")
        }
        let members = try JSONDecoder().decode([ClusterMember].self, from: Data(json))
        return DiscoveredCluster(clusterID: clusterID, members: members)
    }

    /// etcd's `ValidateClusterAndAssignIDs`: `--initial-cluster` must list
    /// the running cluster's members (by peer URLs); returns the member whose
    /// peer URLs are this member's `--initial-advertise-peer-urls`.
    static func localMember(in cluster: DiscoveredCluster, initialCluster: [[String]],
                            advertisePeerURLs: [String]) throws -> ClusterMember {
        guard cluster.members.count == initialCluster.count else {
            throw StartupError("error validating peerURLs \(cluster.members.map(\.peerURLs)): member count is unequal")
        }
        let remote = cluster.members.map { $0.peerURLs.sorted() }.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
        let local = initialCluster.map { $0.sorted() }.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
        for (l, r) in zip(local, remote) where l != r {
            throw StartupError("error validating peerURLs: unmatched member while checking PeerURLs (\(l) != \(r))")
        }
        guard let me = cluster.members.first(where: { $0.peerURLs.sorted() == advertisePeerURLs.sorted() }) else {
            throw StartupError("no member of the running cluster has peer URLs \(advertisePeerURLs); add it with `etcdctl member add` first")
        }
        return me
    }
}

private final class AnswerHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    let promise: EventLoopPromise<ClusterPeerFrame>

    init(promise: EventLoopPromise<ClusterPeerFrame>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .cluster(let frame): promise.succeed(frame)
        case .helloRejected(let reason): promise.fail(StartupError("peer refused: \(reason)"))
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(StartupError("peer closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
