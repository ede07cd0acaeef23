import CNGHTTP2
import NIOCore

/// nghttp2 callbacks: file-level C functions that recover the connection from
/// `user_data` (unretained: the handler owns the session and deletes it
/// before it goes away) and forward to it. They never re-enter the session
/// except through the `nghttp2_submit_*` / `resume_data` APIs nghttp2 allows
/// from callbacks.
enum H2Callbacks {
    /// Shared by every server session (nghttp2 copies it into each session).
    nonisolated(unsafe) static let server: OpaquePointer = {
        var cbs: OpaquePointer?
        precondition(nghttp2_session_callbacks_new(&cbs) == 0)
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(cbs, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, onFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, onDataChunkRecv)
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, onStreamClose)
        nghttp2_session_callbacks_set_on_frame_send_callback(cbs, onFrameSend)
        return cbs!
    }()

    @inline(__always)
    static func connection(_ userData: UnsafeMutableRawPointer?) -> H2ConnectionHandler {
        Unmanaged<H2ConnectionHandler>.fromOpaque(userData!).takeUnretainedValue()
    }
}

private let frameHeaders = UInt8(NGHTTP2_HEADERS.rawValue)
private let frameData = UInt8(NGHTTP2_DATA.rawValue)
private let framePing = UInt8(NGHTTP2_PING.rawValue)
private let flagEndStream = UInt8(NGHTTP2_FLAG_END_STREAM.rawValue)
private let flagAck = UInt8(NGHTTP2_FLAG_ACK.rawValue)

private func onBeginHeaders(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                            _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame, frame.pointee.hd.type == frameHeaders,
          frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
    let accepted = H2Callbacks.connection(userData).openStream(frame.pointee.hd.stream_id)
    return accepted ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
}

private func onHeader(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                      _ name: UnsafePointer<UInt8>?, _ nameLength: Int,
                      _ value: UnsafePointer<UInt8>?, _ valueLength: Int,
                      _ flags: UInt8, _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame, let name, let value else { return 0 }
    let ok = H2Callbacks.connection(userData).receiveHeader(
        streamID: frame.pointee.hd.stream_id,
        name: UnsafeBufferPointer(start: name, count: nameLength),
        value: UnsafeBufferPointer(start: value, count: valueLength))
    // Failing here makes nghttp2 reset just this stream.
    return ok ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
}

private func onFrameRecv(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                         _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return 0 }
    let hd = frame.pointee.hd
    let connection = H2Callbacks.connection(userData)
    switch hd.type {
    case frameHeaders:
        connection.endHeaders(streamID: hd.stream_id, endStream: hd.flags & flagEndStream != 0)
    case frameData:
        // END_STREAM is acted on here, not in on_data_chunk_recv (the chunk may not be the last callback).
        if hd.flags & flagEndStream != 0 { connection.endStream(streamID: hd.stream_id) }
    case framePing:
        if hd.flags & flagAck == 0 { connection.receivedPing() }
    default:
        break
    }
    return 0
}

private func onDataChunkRecv(_ session: OpaquePointer?, _ flags: UInt8, _ streamID: Int32,
                             _ data: UnsafePointer<UInt8>?, _ length: Int,
                             _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let data else { return 0 }
    // The chunk points into the input buffer: the state machine copies it.
    H2Callbacks.connection(userData).receiveData(streamID: streamID,
                                                 UnsafeRawBufferPointer(start: data, count: length))
    return 0
}

private func onStreamClose(_ session: OpaquePointer?, _ streamID: Int32, _ errorCode: UInt32,
                           _ userData: UnsafeMutableRawPointer?) -> Int32 {
    H2Callbacks.connection(userData).streamClosed(streamID: streamID, errorCode: errorCode)
    return 0
}

private func onFrameSend(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                         _ userData: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return 0 }
    let hd = frame.pointee.hd
    if hd.type == frameHeaders || hd.type == frameData {
        H2Callbacks.connection(userData).sentFrame(streamID: hd.stream_id, type: hd.type,
                                                   endStream: hd.flags & flagEndStream != 0)
    }
    return 0
}

/// The DATA provider of every response: serves the stream's outbound bytes.
/// Returns DEFERRED when the handler has not produced more yet; once the call
/// has finished and the bytes are gone, ends the DATA with NO_END_STREAM and
/// submits the trailers.
func h2ReadResponseData(_ session: OpaquePointer?, _ streamID: Int32, _ buf: UnsafeMutablePointer<UInt8>?,
                        _ length: Int, _ dataFlags: UnsafeMutablePointer<UInt32>?,
                        _ userData: UnsafeMutableRawPointer?) -> cng_ssize {
    guard let buf, let dataFlags else { return cng_ssize(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
    return H2Callbacks.connection(userData).readResponseData(streamID: streamID, into: buf, length: length,
                                                            flags: dataFlags)
}
