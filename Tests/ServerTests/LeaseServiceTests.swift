import Foundation
import GRPCWire
import MVCC
import Proto
import Testing
@testable import Server

/// The keep-alive's inline form (answered on the connection's loop) against
/// a fake backend: it answers what the leader renews at once, with the
/// handler's fields, and leaves anything that would wait or fail to the
/// stream's handler.
@Suite struct LeaseServiceTests {
    final class FakeLeases: LeaseBackend, @unchecked Sendable {
        /// Renewed at once with TTL 60; any other lease needs the async path.
        let local: Int64 = 1
        func header(revision: Int64, term: UInt64?) -> Etcdserverpb.ResponseHeader {
            var h = Etcdserverpb.ResponseHeader()
            h.revision = revision
            h.raftTerm = term ?? 3
            return h
        }
        var currentRevision: Int64 { 9 }
        func proposeWrite(_ request: Swiftetcd.InternalRaftRequest,
                          as identity: RequestIdentity?) async throws -> (WriteResponse, Etcdserverpb.ResponseHeader) {
            throw ServerError.unexpectedResult
        }
        func nextRequestID() -> UInt64 { 1 }
        func renewLease(_ id: Int64) async throws -> Int64 { 5 }
        func renewLeaseWithoutWaiting(_ id: Int64) -> Int64? { id == local ? 60 : nil }
        func leaseTimeToLive(_ id: Int64) async throws -> Lessor.TimeToLive? { nil }
        func leaseIDs() -> [Int64] { [] }
        func grantedTTLSeconds(_ id: Int64, requestedSeconds: Int64) -> Int64 { requestedSeconds }
    }

    let path = Etcdserverpb.LeaseService.leaseKeepAlive.path

    func keepAliveInline() throws -> GRPCRouter.Inline {
        let router = GRPCRouter()
        LeaseService(backend: FakeLeases(), access: OpenAccess()).register(on: router)
        return try #require(router.inlineHandler(for: path))
    }

    func request(_ id: Int64) -> [UInt8] {
        var r = Etcdserverpb.LeaseKeepAliveRequest()
        r.id = id
        return r.serializedBytes()
    }

    @Test func inlineFormAnswersARenewalThatNeedsNoWait() throws {
        let inline = try keepAliveInline()
        let bytes = try #require(try inline(request(1), GRPCRequestContext(headers: [], path: path)))
        let response = try bytes.withUnsafeBytes { try Etcdserverpb.LeaseKeepAliveResponse(serializedBytes: $0) }
        #expect(response.id == 1)
        #expect(response.ttl == 60)
        #expect(response.header?.revision == 9)
        #expect(response.header?.raftTerm == 3)
    }

    @Test func inlineFormLeavesTheRestToTheHandler() throws {
        let inline = try keepAliveInline()
        let context = GRPCRequestContext(headers: [], path: path)
        #expect(try inline(request(2), context) == nil)  // forwarded, or an error: the handler's
        #expect(try inline([0xFF, 0xFF], context) == nil)  // undecodable: the handler's INTERNAL
    }
}
