import Foundation
import NIOCore
import Testing
@testable import Server

/// Direct writes into a peer socket from the sender's thread fall back to
/// the event loop when the socket is full; the receiver must still get
/// every byte in the order written.
@Suite struct PeerSocketWriterTests {
    @Test func bytesKeepTheirOrderWhenTheSocketWouldBlock() throws {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let writer = PeerSocketWriter()
        writer.open(dup(fds[0]))
        var expected: [UInt8] = []
        var onLoop: [(ByteBuffer, Bool)] = []
        func chunk(_ i: Int) -> ByteBuffer {
            let bytes = (0..<16_384).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            expected += bytes
            return ByteBuffer(bytes: bytes)
        }
        // Nobody reads yet: the socket fills, the rest goes to the "loop".
        for i in 0..<256 { writer.write(chunk(i)) { onLoop.append(($0, $1)) } }
        try #require(onLoop.count > 1)
        #expect(onLoop[0].1 || onLoop[0].0.readableBytes == 16_384)  // a frame begun directly must be finished

        // The reader makes room; a write now must still queue behind the loop's.
        let received = ReceivedBytes()
        let readEnd = fds[1]
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = read(readEnd, &buffer, buffer.count)
                if n <= 0 { break }
                received.append(buffer[0..<n])
            }
            received.finish()
        }
        reader.start()
        while received.count == 0 { usleep(1000) }
        usleep(20_000)
        let queuedBefore = onLoop.count
        writer.write(chunk(256)) { onLoop.append(($0, $1)) }
        #expect(onLoop.count == queuedBefore + 1)

        // The "loop" writes its share in order, then direct writes resume.
        for (buffer, _) in onLoop {
            var rest = buffer
            while rest.readableBytes > 0 {
                let n = rest.withUnsafeReadableBytes { write(fds[0], $0.baseAddress, $0.count) }
                try #require(n > 0)
                rest.moveReaderIndex(forwardBy: n)
            }
            writer.loopWriteDone(failed: false)
        }
        // Once the reader has taken everything, the socket has room: the
        // next write goes directly. (Without this wait a reader slowed by a
        // loaded machine left the socket full and the write rightly queued.)
        let deadline = Date().addingTimeInterval(60)
        while received.count < expected.count && Date() < deadline { usleep(1000) }
        var direct = true
        writer.write(ByteBuffer(bytes: [1, 2, 3])) { _, _ in direct = false }
        expected += [1, 2, 3]
        #expect(direct)
        writer.close()
        close(fds[0])
        received.waitFinished()
        close(fds[1])
        let got = received.bytes
        #expect(got.count == expected.count)
        #expect(got == expected, "bytes out of order")
    }

    /// A failed loop write closes the direct socket: nothing may follow a gap.
    @Test func aFailedLoopWriteStopsDirectWrites() throws {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let writer = PeerSocketWriter()
        writer.open(dup(fds[0]))
        var onLoop = 0
        let chunk = ByteBuffer(bytes: [UInt8](repeating: 7, count: 16_384))
        while onLoop == 0 { writer.write(chunk) { _, _ in onLoop += 1 } }
        writer.loopWriteDone(failed: true)  // the loop's write failed
        // Room again: still nothing goes directly.
        var buffer = [UInt8](repeating: 0, count: 65_536)
        #expect(read(fds[1], &buffer, buffer.count) > 0)
        writer.write(ByteBuffer(bytes: [2])) { _, _ in onLoop += 1 }
        #expect(onLoop == 2)
    }
}

private final class ReceivedBytes: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: [UInt8] = []
    private var done = false
    func append(_ b: ArraySlice<UInt8>) { condition.withLock { data += b } }
    func finish() { condition.withLock { done = true; condition.broadcast() } }
    func waitFinished() { condition.withLock { while !done { condition.wait() } } }
    var count: Int { condition.withLock { data.count } }
    var bytes: [UInt8] { condition.withLock { data } }
}
