import Testing
@testable import Proto

@Test func rangeRequestKeyFoo() throws {
    var request = Etcdserverpb.RangeRequest()
    request.key = Array("foo".utf8)
    #expect(request.serializedBytes() == [0x0a, 0x03, 0x66, 0x6f, 0x6f])
    let decoded = try Etcdserverpb.RangeRequest(serializedBytes: [0x0a, 0x03, 0x66, 0x6f, 0x6f] as [UInt8])
    #expect(decoded == request)
}
