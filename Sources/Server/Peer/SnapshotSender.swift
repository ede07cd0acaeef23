import Foundation
import Logging
import NIOCore
import NIOPosix
import Raft
import Support

/// What a snapshot transfer sends besides the Raft message: a consistent
/// copy of the store (the caller closes it) and the `SnapshotExtras` bytes
/// that become the snapshot's data.
struct SnapshotPayload {
    var copy: StoreCopy
    var extras: [UInt8]
}

/// The leader's side of snapshot transfers: for each MsgSnap Raft emits, a
/// fresh copy of the store is streamed to the follower on a connection of
/// its own (frames: `SnapshotFrame`), `chunkBytes` at a time, each write
/// waited for before the next chunk is read, so memory per transfer is one
/// chunk whatever the store's size. The outcome goes back to Raft
/// (`reportSnapshot`), which keeps the follower paused meanwhile and
/// retries after a failure.
///
/// Transfers run on their own threads (copying and waiting block); at most
/// one per follower (Raft sends the next MsgSnap only after a report).
final class SnapshotSender: @unchecked Sendable {
    static let chunkBytes = 1 << 20
    /// A transfer that makes no progress (a write or the answer) for this
    /// long is given up.
    static let stallTimeoutSeconds: Int64 = 30

    private let group: EventLoopGroup
    private let dialer: PeerDialer
    private let logger: Logger
    private let lock = NSLock()
    private var inFlight: Set<UInt64> = []  // guarded by `lock`

    init(group: EventLoopGroup, dialer: PeerDialer, logger: Logger) {
        self.group = group
        self.dialer = dialer
        self.logger = logger
    }

    /// Starts sending `message` (a MsgSnap) to the peer at `url`; `done`
    /// gets whether the follower took the snapshot in. Ignored while a
    /// transfer to the same follower is under way.
    func send(_ message: Message, url: String, hello: PeerHello, payload: @escaping () throws -> SnapshotPayload,
              done: @escaping @Sendable (Bool) -> Void) {
        let to = message.to
        let started = lock.withLock { inFlight.insert(to).inserted }
        // One at a time per follower: the transfer under way reports for both.
        guard started else { return }
        var peerLogger = self.logger
        peerLogger[metadataKey: "remote-peer-id"] = "\(String(to, radix: 16))"
        let logger = peerLogger
        let eventLoop = group.next()
        Thread.named("snapshot-send") { [self] in
            var ok = false
            do {
                // A follower that is down again costs no store copy: it must
                // take a connection first. That one is closed before the copy
                // (seconds for a large store) and the stream gets a fresh one:
                // held idle through the copy, it outlives the follower's
                // --raft-read-timeout, and every retry would fail the same way.
                try connect(url, on: eventLoop).0.close().wait()
                let payload = try payload()
                defer { payload.copy.close() }
                let (channel, answer) = try connect(url, on: eventLoop)
                defer { channel.close(promise: nil) }
                var m = message
                m.snapshot?.data = payload.extras
                logger.info("sending database snapshot", metadata: [
                    "snapshot-index": "\(m.snapshot?.metadata.index ?? 0)", "consistent-index": "\(payload.copy.info.consistentIndex)",
                    "total-bytes": "\(payload.copy.sizeBytes)"])
                try stream(m, copy: payload.copy, hello: hello, on: channel, answer: answer)
                logger.info("sent database snapshot", metadata: ["total-bytes": "\(payload.copy.sizeBytes)"])
                ok = true
            } catch {
                logger.warning("failed to send database snapshot", metadata: ["error": "\(error)"])
            }
            lock.withLock { _ = inFlight.remove(to) }
            done(ok)
        }.start()
    }

    /// A snapshot connection and the future of the follower's answer on it.
    private func connect(_ url: String, on eventLoop: EventLoop) throws -> (Channel, EventLoopFuture<SnapshotAnswer>) {
        let target = try PeerDialer.target(url)
        let answer = eventLoop.makePromise(of: SnapshotAnswer.self)
        let connecting = dialer.connect(target, on: eventLoop, timeout: .seconds(2)) {
            SnapshotAnswerHandler(answer: answer)
        }
        do {
            return (try connecting.wait(), answer.futureResult)
        } catch {
            answer.fail(error)  // never connected: nobody else completes it
            throw error
        }
    }

    /// Hello, begin, the chunks, end; then waits for the follower's answer.
    private func stream(_ m: Message, copy: StoreCopy, hello: PeerHello, on channel: Channel,
                        answer: EventLoopFuture<SnapshotAnswer>) throws {
        try write([.hello(hello), .snapshot(.begin(totalBytes: UInt64(copy.sizeBytes), message: m.encoded()))], to: channel)
        var signer = SnapshotChunkSigner()
        var chunk = channel.allocator.buffer(capacity: Self.chunkBytes)
        while signer.offset < UInt64(copy.sizeBytes) {
            let want = Int(min(UInt64(Self.chunkBytes), UInt64(copy.sizeBytes) - signer.offset))
            chunk.clear()
            let n = try chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: want) {
                try FileIO.read(copy.fd, into: $0.baseAddress!, count: want)
            }
            guard n == want else { throw PeerProtocolError("store copy shrank while sending (\(signer.offset + UInt64(n)) bytes)") }
            try write([.snapshot(signer.chunk(chunk))], to: channel)
        }
        try write([.snapshot(signer.end())], to: channel)
        let timer = channel.eventLoop.scheduleTask(in: .seconds(Self.stallTimeoutSeconds)) { channel.close(promise: nil) }
        defer { timer.cancel() }
        let result = try answer.wait()
        guard result.ok else { throw PeerProtocolError("follower refused the snapshot: \(result.reason)") }
    }

    /// Writes frames and waits until they are written; a peer that stops
    /// reading for `stallTimeoutSeconds` gets its connection closed.
    private func write(_ frames: [PeerFrame], to channel: Channel) throws {
        var buffer = channel.allocator.buffer(capacity: Self.chunkBytes + 128)
        for f in frames { f.write(into: &buffer) }
        let timer = channel.eventLoop.scheduleTask(in: .seconds(Self.stallTimeoutSeconds)) { channel.close(promise: nil) }
        defer { timer.cancel() }
        try channel.writeAndFlush(buffer).wait()
    }
}

private struct SnapshotAnswer {
    var ok: Bool
    var reason: String
}

/// Completes `answer` with the follower's ack (or refusal of our hello);
/// fails it if the connection closes first.
private final class SnapshotAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    private let answer: EventLoopPromise<SnapshotAnswer>
    private var answered = false

    init(answer: EventLoopPromise<SnapshotAnswer>) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .snapshot(.ack(let ok, let reason)): complete(.success(SnapshotAnswer(ok: ok, reason: reason)))
        case .helloRejected(let reason): complete(.success(SnapshotAnswer(ok: false, reason: reason)))
        default: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(PeerProtocolError("connection closed before the follower answered")))
        context.fireChannelInactive()
    }

    private func complete(_ result: Result<SnapshotAnswer, Error>) {
        guard !answered else { return }
        answered = true
        answer.completeWith(result)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
