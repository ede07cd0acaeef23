import NIOCore
import Testing
@testable import GRPCWire

@Suite struct DrainProgressTests {
    let start = DrainProgress(lastRead: .uptimeNanoseconds(1_000), bytesWritten: 500, socketBacklog: 300)

    @Test func aClientThatNeitherSendsNorTakesHasStalled() {
        #expect(start.stalled(since: start, onlyTheClientCanMoveOn: true))
    }

    @Test func anyMovementIsProgress() {
        var read = start; read.lastRead = .uptimeNanoseconds(2_000)
        var wrote = start; wrote.bytesWritten += 1
        var drained = start; drained.socketBacklog -= 100
        for now in [read, wrote, drained] {
            #expect(!now.stalled(since: start, onlyTheClientCanMoveOn: true))
        }
    }

    @Test func aCallStillRunningIsWaitedFor() {
        #expect(!start.stalled(since: start, onlyTheClientCanMoveOn: false))
    }
}
