import Testing
@testable import GRPCWire

/// A stream's outbound buffer: framed responses come out byte for byte in
/// order however enqueues and partial drains interleave, and a stream that
/// is never fully drained does not keep everything it ever sent.
@Suite struct OutboundBufferTests {
    private func stream() -> ServerStream {
        ServerStream(id: 1, machine: GRPCStreamStateMachine(maxReceiveBytes: 1024, maxHeaderListBytes: 8192))
    }

    @Test func interleavedEnqueueAndPartialDrainKeepBytesInOrder() {
        let s = stream()
        var expected: [UInt8] = []
        var drained: [UInt8] = []
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: 70_000)
        defer { buf.deallocate() }
        var largestBuffer = 0
        for i in 0..<3_000 {
            let message = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 100 + i % 300)
            s.enqueue(message)
            GRPCMessageDeframer.frame(message, into: &expected)
            largestBuffer = max(largestBuffer, s.outbound.count)
            // Drain a little less than was added: the buffer never empties until the end.
            let n = s.drain(into: buf, length: 90 + i % 250)
            drained.append(contentsOf: UnsafeBufferPointer(start: buf, count: n))
        }
        drainAll(s, into: buf, capacity: 70_000, &drained)
        #expect(drained == expected)
        // Only the unsent bytes (plus the sent half at most) are kept, not all ~750 KB sent.
        #expect(largestBuffer < expected.count / 2)
    }

    @Test func framingManyMessagesIntoOneBufferMatchesOneByOne() {
        var together: [UInt8] = []
        var separate: [UInt8] = []
        for i in 0..<1_000 {
            let message = [UInt8](repeating: 7, count: i)
            GRPCMessageDeframer.frame(message, into: &together)
            var one: [UInt8] = []
            GRPCMessageDeframer.frame(message, into: &one)
            #expect(one.count == 5 + i)
            #expect(one[0] == 0)
            #expect(Int(one[1]) << 24 | Int(one[2]) << 16 | Int(one[3]) << 8 | Int(one[4]) == i)
            separate.append(contentsOf: one)
        }
        #expect(together == separate)
    }

    /// A message framed in place (`answerFramed`), small or large, queued
    /// alone or behind others, comes out as `frame` would have framed it.
    @Test func framedInPlaceMatchesFramedByCopy() {
        let s = stream()
        var expected: [UInt8] = [], drained: [UInt8] = []
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: 40_000)
        defer { buf.deallocate() }
        for i in 0..<200 {
            let message = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: i % 3 == 0 ? 20_000 + i : 10 + i)
            GRPCMessageDeframer.frame(message, into: &expected)
            if i % 2 == 0 {
                var framed = [UInt8](repeating: 0xEE, count: GRPCMessageDeframer.headerBytes) + message
                GRPCMessageDeframer.writeHeader(into: &framed)
                s.enqueue(framed: framed)
            } else {
                s.enqueue(message)
            }
            // Sometimes all of it (the next framed one is adopted), sometimes part.
            let n = s.drain(into: buf, length: i % 4 == 0 ? 40_000 : 7_000)
            drained.append(contentsOf: UnsafeBufferPointer(start: buf, count: n))
        }
        drainAll(s, into: buf, capacity: 40_000, &drained)
        #expect(drained == expected)
    }

    private func drainAll(_ s: ServerStream, into buf: UnsafeMutablePointer<UInt8>, capacity: Int, _ drained: inout [UInt8]) {
        while s.pendingOutboundBytes > 0 {
            let n = s.drain(into: buf, length: capacity)
            drained.append(contentsOf: UnsafeBufferPointer(start: buf, count: n))
        }
    }
}
