import Foundation
import NIOCore
import Support

/// Writes a plain-TCP peer connection's frames from the sender's own thread
/// (the Raft loop, mostly) straight into the socket, so a Raft message does
/// not cost a wake-up of the connection's event loop thread on its way out.
///
/// The event loop stays the fallback, and the order of the bytes is kept:
/// a write goes to the socket directly only while no write handed to the
/// loop is still unwritten (`onLoop == 0`); whatever the socket does not
/// take at once (it would block, or fails) goes to the loop, and every later
/// write follows it there until the loop has written it all. A frame begun
/// directly is never dropped half-way (`mustFinish`), and once a loop write
/// fails the socket is closed here before anything else may be written, so
/// the receiver never sees a gap inside the stream.
///
/// The socket is a `dup` of the channel's, opened once the channel's hello
/// is written and closed when the channel closes (under `lock`, so a write
/// never reaches a descriptor number reused by something else).
final class PeerSocketWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: CInt = -1  // guarded by `lock`
    private var onLoop = 0  // guarded by `lock`: loop writes not yet written (or failed)

    /// Starts direct writes on `fd` (owned from now on).
    func open(_ fd: CInt) {
        let old = lock.withLock { () -> CInt in
            let old = self.fd
            self.fd = fd
            return old
        }
        if old >= 0 { Glibc.close(old) }
    }

    /// Stops direct writes; any thread.
    func close() {
        let old = lock.withLock { () -> CInt in
            let old = fd
            fd = -1
            return old
        }
        if old >= 0 { Glibc.close(old) }
    }

    /// Writes `buffer` into the socket if it may and can; hands the rest to
    /// `loop` (with whether a frame was begun directly, so the rest must not
    /// be dropped), under the lock so that loop writes keep their order.
    /// The loop must call `loopWriteDone(failed:)` once for each.
    func write(_ buffer: ByteBuffer, loop: (ByteBuffer, _ mustFinish: Bool) -> Void) {
        var buffer = buffer
        lock.lock()
        defer { lock.unlock() }
        var begun = false
        if fd >= 0 && onLoop == 0 {
            while buffer.readableBytes > 0 {
                let n = buffer.withUnsafeReadableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
                if n > 0 {
                    buffer.moveReaderIndex(forwardBy: n)
                    begun = true
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break  // would block, or failed: the loop writes the rest (or finds the channel gone)
                }
            }
            if buffer.readableBytes == 0 { return }
        }
        onLoop += 1
        loop(buffer, begun)
    }

    /// A write handed to the loop was written, dropped or failed. A failed
    /// one (or a dropped one begun directly) closes the direct socket first:
    /// nothing may follow a gap.
    func loopWriteDone(failed: Bool) {
        if failed { close() }
        lock.withLock { onLoop -= 1 }
    }

    /// Connects to `host`:`port` over plain TCP, blocking for at most
    /// `timeoutMs` per address; returns the connected socket (non-blocking,
    /// close-on-exec, no Nagle). Runs on a blocking thread.
    static func connect(host: String, port: Int, timeoutMs: Int32) throws -> CInt {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw PeerProtocolError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(first) }
        var failure = PeerProtocolError("no address for \(host)")
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                            ai.pointee.ai_protocol)
            guard fd >= 0 else {
                failure = PeerProtocolError("socket: \(String(cString: strerror(errno)))")
                continue
            }
            if let error = finishConnect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen, timeoutMs: timeoutMs) {
                Glibc.close(fd)
                failure = PeerProtocolError("dial tcp \(host):\(port): \(error)")
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return fd
        }
        throw failure
    }

    /// nil once `fd` is connected, else why not.
    private static func finishConnect(_ fd: CInt, _ addr: UnsafeMutablePointer<sockaddr>?, _ len: socklen_t,
                                      timeoutMs: Int32) -> String? {
        if Glibc.connect(fd, addr, len) == 0 { return nil }
        guard errno == EINPROGRESS || errno == EINTR else { return String(cString: strerror(errno)) }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let deadline = MonotonicClock.nanoseconds() + UInt64(timeoutMs) * 1_000_000
        while true {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline else { return "i/o timeout" }
            let n = poll(&pfd, 1, Int32((deadline - now) / 1_000_000) + 1)
            if n > 0 { break }
            if n < 0 && errno != EINTR { return String(cString: strerror(errno)) }
        }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return String(cString: strerror(errno)) }
        return error == 0 ? nil : String(cString: strerror(error))
    }
}
