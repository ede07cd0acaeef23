import CNGHTTP2

/// Receive-side backpressure. nghttp2 sends no WINDOW_UPDATE by itself
/// (no_auto_window_update); we give window back with `nghttp2_session_consume`
/// while a stream holds at most one maximal message (plus a frame) and the
/// connection holds at most `maxConnectionBufferedBytes`. Past either bound the
/// bytes stay unconsumed ("starved") until the handler takes messages, so a
/// client cannot make us buffer more than that however fast it sends.
/// What a stream holds is its request side's own count
/// (`GRPCStreamStateMachine.heldRequestBytes`: bytes plus a charge per
/// message), so tiny messages cannot be held by the million.
extension H2ConnectionHandler {
    var perStreamHeldCap: Int { config.maxReceiveBytes + 5 + 16 * 1024 }

    /// `count` bytes of DATA were fed to the stream's machine: give their
    /// window back unless the stream or the connection holds too much.
    func accountReceived(_ stream: ServerStream, _ count: Int) {
        guard let session else { return }
        syncHeld(stream)
        if stream.unconsumedBytes == 0, stream.heldBytes <= perStreamHeldCap,
           bufferedBytes <= config.maxConnectionBufferedBytes {
            _ = nghttp2_session_consume(session, stream.id, count)
        } else {
            stream.unconsumedBytes += count
            starvedStreams.insert(stream.id)
        }
    }

    /// The handler took messages (or the call reads no more): count what the
    /// stream still holds and grant window where there is room again.
    func releaseHeld(_ stream: ServerStream) {
        syncHeld(stream)
        grantStarved()
    }

    /// Brings the stream's share of `bufferedBytes` to what its machine holds.
    private func syncHeld(_ stream: ServerStream) {
        guard !stream.closed else { return }  // `releaseClosed` took its share back
        let now = stream.machine.heldRequestBytes
        bufferedBytes += now - stream.heldBytes
        stream.heldBytes = now
    }

    /// The stream is gone: forget its bytes; give the connection window back for the unconsumed ones.
    func releaseClosed(_ stream: ServerStream) {
        headerBytes -= stream.headerBytes
        stream.headerBytes = 0
        stream.machine.dropRequestMessages()  // nobody will take them (a handler left running is cancelled)
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
