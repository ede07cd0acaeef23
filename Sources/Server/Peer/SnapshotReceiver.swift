import Foundation
import Logging
import MVCC
import NIOCore
import NIOPosix
import Raft
import Support

/// What the peer listener needs from the server to take snapshots in.
struct SnapshotSink: Sendable {
    /// A fresh file path in the snap dir for one transfer.
    var newPath: @Sendable () -> String
    /// A complete, verified, fsynced database file and the MsgSnap it
    /// belongs to: the server registers the file, then steps the message.
    var received: @Sendable (Message, String) -> Void
    /// Why the MsgSnap of a transfer's begin frame cannot be installed
    /// (its data must decode as `SnapshotExtras`), nil if it can: the
    /// Raft loop treats a snapshot it fails to install as fatal.
    var refuses: @Sendable (Message) -> String? = { _ in nil }
}

/// One inbound snapshot transfer (frames: `SnapshotFrame`), confined to its
/// connection's event loop. Chunks are checked by `SnapshotReceiveState`
/// and written to a file of their own as they come (one chunk in memory at
/// a time); the finished file is fsynced, opened as an LMDB database and
/// checked to hold at least the snapshot's index before the sink gets it
/// and the leader is told `ack(ok)`. On any failure the file is deleted and
/// the leader is told why (`ack(false, reason)`); it reports the failure to
/// Raft, which retries later.
final class SnapshotReceiver {
    private var state = SnapshotReceiveState()
    private let remoteID: UInt64
    private let sink: SnapshotSink
    private let logger: Logger
    private var fd: Int32 = -1
    private var path = ""
    private var message: Message?
    /// Answered (or being answered): later frames are ignored.
    private var done = false

    init(remoteID: UInt64, sink: SnapshotSink, logger: Logger) {
        self.remoteID = remoteID
        self.sink = sink
        var logger = logger
        logger[metadataKey: "remote-peer-id"] = "\(String(remoteID, radix: 16))"
        self.logger = logger
    }

    func handle(_ frame: SnapshotFrame, context: ChannelHandlerContext) {
        guard !done else { return }
        switch frame {
        case .begin(let total, let bytes):
            guard let m = try? Message(decoding: bytes), m.type == .snap, m.from == remoteID, let snap = m.snapshot else {
                return fail("snapshot begin frame without a snapshot message from the sender", context)
            }
            if let reason = sink.refuses(m) { return fail(reason, context) }
            if case .fail(let reason) = state.begin(totalBytes: total) { return fail(reason, context) }
            path = sink.newPath()
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)  // becomes data.mdb, as LMDB creates it
            if fd < 0 { return fail("cannot create \(path): \(String(cString: strerror(errno)))", context) }
            message = m
            logger.info("receiving database snapshot", metadata: [
                "snapshot-index": "\(snap.metadata.index)", "total-bytes": "\(total)"])
        case .chunk(let offset, let digest, let bytes):
            let action = bytes.withUnsafeReadableBytes { state.chunk(offset: offset, digest: digest, bytes: $0) }
            if case .fail(let reason) = action { return fail(reason, context) }
            do {
                try bytes.withUnsafeReadableBytes { try FileIO.write(fd, $0, path: path) }
            } catch {
                fail("writing \(path): \(error)", context)
            }
        case .end(let total, let digest):
            switch state.end(totalBytes: total, digest: digest) {
            case .fail(let reason): fail(reason, context)
            default: finish(context)
            }
        case .ack:
            fail("unexpected snapshot ack from the sender", context)
        }
    }

    /// The connection closed: a transfer cut short leaves no file behind.
    func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(path)
        if state.phase == .receiving {
            logger.warning("snapshot transfer interrupted", metadata: ["received-bytes": "\(state.receivedBytes)"])
        }
    }

    /// fsync and checks off the event loop, then hand over and answer.
    private func finish(_ context: ChannelHandlerContext) {
        let fd = self.fd, path = self.path, message = self.message!, sink = self.sink, logger = self.logger
        let total = state.totalBytes
        self.fd = -1
        done = true
        let channel = context.channel
        // The leader sends nothing until it has the answer; the fsync of a
        // large file alone can outlast the read timeout.
        context.triggerUserOutboundEvent(PeerTimeoutHandler.StopReadTimeout(), promise: nil)
        NIOThreadPool.singleton.submit { _ in
            var reason: String?
            FileIO.fsync(fd, path: path)
            close(fd)
            let index = message.snapshot!.metadata.index
            if reason == nil {
                do {
                    let info = try MVCCStore.snapshotInfo(path)
                    if info.consistentIndex < index {
                        reason = "snapshot database holds index \(info.consistentIndex), below the snapshot's \(index)"
                    }
                } catch {
                    reason = "snapshot database does not open: \(error)"
                }
            }
            if let reason {
                unlink(path)
                logger.error("rejected database snapshot", metadata: ["reason": "\(reason)"])
            } else {
                logger.info("received database snapshot", metadata: ["snapshot-index": "\(index)", "total-bytes": "\(total)"])
                sink.received(message, path)
            }
            Self.answer(ok: reason == nil, reason: reason ?? "", on: channel)
        }
    }

    private func fail(_ reason: String, _ context: ChannelHandlerContext) {
        logger.error("rejected database snapshot", metadata: ["reason": "\(reason)"])
        done = true
        abandon()
        Self.answer(ok: false, reason: reason, on: context.channel)
    }

    private static func answer(ok: Bool, reason: String, on channel: Channel) {
        var buffer = channel.allocator.buffer(capacity: reason.utf8.count + 8)
        PeerFrame.snapshot(.ack(ok: ok, reason: reason)).write(into: &buffer)
        channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
    }
}
