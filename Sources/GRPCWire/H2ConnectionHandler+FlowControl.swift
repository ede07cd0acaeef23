import CNGHTTP2

/// Receive-side backpressure. nghttp2 sends no WINDOW_UPDATE by itself
/// (no_auto_window_update); we give window back with `nghttp2_session_consume`
/// while a stream holds at most one maximal message (plus a frame) and the
/// connection holds at most `maxConnectionBufferedBytes`. Past either bound the
/// bytes stay unconsumed ("starved") until the handler takes messages, so a
/// client cannot make us buffer more than that however fast it sends.
extension H2ConnectionHandler {
    var perStreamHeldCap: Int { config.maxReceiveBytes + 5 + 16 * 1024 }

    func accountReceived(_ stream: ServerStream, _ count: Int) {
        guard let session else { return }
        stream.heldBytes += count
        bufferedBytes += count
        if stream.unconsumedBytes == 0, stream.heldBytes <= perStreamHeldCap,
           bufferedBytes <= config.maxConnectionBufferedBytes {
            _ = nghttp2_session_consume(session, stream.id, count)
        } else {
            stream.unconsumedBytes += count
            starvedStreams.insert(stream.id)
        }
    }

    /// The handler took `count` bytes' worth of messages.
    func releaseHeld(_ stream: ServerStream, _ count: Int) {
        let n = min(count, stream.heldBytes)
        stream.heldBytes -= n
        bufferedBytes -= n
        grantStarved()
    }

    /// The stream is gone: forget its bytes; give the connection window back for the unconsumed ones.
    func releaseClosed(_ stream: ServerStream) {
        headerBytes -= stream.headerBytes
        stream.headerBytes = 0
        bufferedBytes -= stream.heldBytes
        stream.heldBytes = 0
        if stream.unconsumedBytes > 0, let session {
            _ = nghttp2_session_consume_connection(session, stream.unconsumedBytes)
            stream.unconsumedBytes = 0
        }
        starvedStreams.remove(stream.id)
        grantStarved()
    }

    private func grantStarved() {
        guard !starvedStreams.isEmpty, let session,
              bufferedBytes <= config.maxConnectionBufferedBytes else { return }
        for id in starvedStreams {
            guard let stream = streams[id] else {
                starvedStreams.remove(id)
                continue
            }
            if stream.heldBytes <= perStreamHeldCap {
                _ = nghttp2_session_consume(session, id, stream.unconsumedBytes)
                stream.unconsumedBytes = 0
                starvedStreams.remove(id)
            }
        }
        scheduleFlush()
    }
}
