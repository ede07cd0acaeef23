import Config
import Foundation
import GRPCWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import X509
@testable import Server

/// The server's TLS layer on real sockets: what it loads, whom it refuses at
/// the handshake, the CN it announces to GRPCWire, reloads, timeouts.
@Suite(.serialized) struct TLSHandshakeTests {
    /// Records the identity event a connection's TLS layer fires and answers "ok" to any bytes.
    final class Probe: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let seen: NIOLockedValueBox<[GRPCConnectionIdentity]>
        init(_ seen: NIOLockedValueBox<[GRPCConnectionIdentity]>) { self.seen = seen }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let e = event as? GRPCConnectionIdentified { seen.withLockedValue { $0.append(e.identity) } }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "ok")), promise: nil)
        }
    }

    struct Harness {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ca: TLSTestCA
        let server: (cert: String, key: String, certificate: Certificate)
        var security = TransportSecurity()
        let seen = NIOLockedValueBox<[GRPCConnectionIdentity]>([])
        var logger: Logger { var l = Logger(label: "tls-test"); l.logLevel = .critical; return l }

        init() throws {
            ca = try TLSTestCA()
            let s = try ca.issue("server", cn: "server", ips: ["127.0.0.1"], dns: ["localhost"])
            server = (s.cert, s.key, s.certificate)
            security.certFile = s.cert
            security.keyFile = s.key
            security.trustedCAFile = try ca.caFile
            security.clientCertAuth = true
        }

        func store() throws -> TLSCertificateStore {
            try TLSCertificateStore(security: security, policy: TLSPolicy(), selfSigned: false, kinds: [.grpcAndHTTP],
                                    side: "client", logger: logger)
        }

        /// Serves `side` on a free port.
        func serve(_ side: TLSServerSide) async throws -> any Channel {
            let seen = self.seen
            return try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    side.initialize(channel).flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandler(Probe(seen))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        /// Connects with TLS (optionally a client pair), writes a byte and
        /// returns what the server answered, or throws when refused.
        func exchange(port: Int, cert: String? = nil, key: String? = nil, trust: String? = nil) async throws -> String {
            var c = TLSConfiguration.makeClientConfiguration()
            let caFile = try ca.caFile
            c.trustRoots = .file(trust ?? caFile)
            if let cert, let key {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                c.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
            let context = try NIOSSLContext(configuration: c)
            let answer = group.next().makePromise(of: String.self)
            final class Reader: ChannelInboundHandler, @unchecked Sendable {
                typealias InboundIn = ByteBuffer
                let answer: EventLoopPromise<String>
                init(_ answer: EventLoopPromise<String>) { self.answer = answer }
                func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                    answer.succeed(String(buffer: unwrapInboundIn(data)))
                }
                func errorCaught(context: ChannelHandlerContext, error: Error) { answer.fail(error) }
                func channelInactive(context: ChannelHandlerContext) { answer.fail(ChannelError.eof) }
            }
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        try channel.pipeline.syncOperations.addHandler(Reader(answer))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            defer { channel.close(promise: nil) }
            try await channel.writeAndFlush(channel.allocator.buffer(string: "x")).get()
            return try await answer.futureResult.get()
        }

        func side(_ store: TLSCertificateStore, policy: RemoteCertificatePolicy = RemoteCertificatePolicy(),
                  timeout: TimeAmount = .seconds(10)) -> TLSServerSide {
            TLSServerSide(store: store, kind: .grpcAndHTTP, policy: policy, announceCommonName: true,
                          handshakeTimeout: timeout, logger: logger)
        }

        func shutdown() async {
            try? await group.shutdownGracefully()
            ca.remove()
        }
    }

    @Test func verifiedClientCommonNameIsAnnounced() async throws {
        let h = try Harness()
        let listener = try await h.serve(h.side(try h.store()))
        let alice = try h.ca.issue("alice", cn: "alice")
        #expect(try await h.exchange(port: listener.localAddress!.port!, cert: alice.cert, key: alice.key) == "ok")
        #expect(h.seen.withLockedValue { $0 } == [GRPCConnectionIdentity(verifiedClientCertCommonName: "alice")])
        try await listener.close()
        await h.shutdown()
    }

    @Test func refusals() async throws {
        var h = try Harness()
        let other = try TLSTestCA(commonName: "other-ca")
        defer { other.remove() }
        let revoked = try h.ca.issue("revoked", cn: "revoked", serial: [0x7e, 0x57])
        h.security.crlFile = h.ca.dir + "/crl.pem"
        try writeCRL(ca: h.ca, serials: [[0x7e, 0x57]], to: h.security.crlFile)
        let store = try h.store()
        let listener = try await h.serve(h.side(store, policy: RemoteCertificatePolicy(allowedHostname: "")))
        let port = listener.localAddress!.port!
        let stranger = try other.issue("stranger", cn: "stranger")
        let expired = try h.ca.issue("expired", cn: "expired", notAfter: Date().addingTimeInterval(-60))
        await #expect(throws: (any Error).self) { try await h.exchange(port: port) }  // no client certificate
        await #expect(throws: (any Error).self) { try await h.exchange(port: port, cert: stranger.cert, key: stranger.key) }
        await #expect(throws: (any Error).self) { try await h.exchange(port: port, cert: expired.cert, key: expired.key) }
        await #expect(throws: (any Error).self) { try await h.exchange(port: port, cert: revoked.cert, key: revoked.key) }
        // Everyone else is still served.
        let good = try h.ca.issue("good", cn: "good")
        #expect(try await h.exchange(port: port, cert: good.cert, key: good.key) == "ok")
        #expect(h.seen.withLockedValue { $0.map(\.verifiedClientCertCommonName) } == ["good"])
        try await listener.close()
        await h.shutdown()
    }

    @Test func allowedCommonNameOnPeerSide() async throws {
        let h = try Harness()
        let listener = try await h.serve(h.side(try h.store(), policy: RemoteCertificatePolicy(allowedCN: "etcd-peer")))
        let port = listener.localAddress!.port!
        let peer = try h.ca.issue("peer", cn: "etcd-peer")
        let intruder = try h.ca.issue("intruder", cn: "someone")
        #expect(try await h.exchange(port: port, cert: peer.cert, key: peer.key) == "ok")
        await #expect(throws: (any Error).self) { try await h.exchange(port: port, cert: intruder.cert, key: intruder.key) }
        try await listener.close()
        await h.shutdown()
    }

    @Test func rotatedCertificateIsUsedByTheNextHandshake() async throws {
        let h = try Harness()
        let store = try h.store()
        let listener = try await h.serve(h.side(store))
        let port = listener.localAddress!.port!
        let alice = try h.ca.issue("alice", cn: "alice")
        _ = try await h.exchange(port: port, cert: alice.cert, key: alice.key)
        let before = try store.current.material.chain.first?.toDERBytes()
        // Rotate: same file names, a new certificate and key.
        _ = try h.ca.issue("server", cn: "server-2", ips: ["127.0.0.1"], dns: ["localhost"])
        #expect(try await h.exchange(port: port, cert: alice.cert, key: alice.key) == "ok")
        let after = try store.current.material.chain.first?.toDERBytes()
        #expect(before != nil && after != nil && before != after)
        try await listener.close()
        await h.shutdown()
    }

    @Test func brokenRotationFailsHandshakesUntilFixed() async throws {
        let h = try Harness()
        let store = try h.store()
        let listener = try await h.serve(h.side(store))
        let port = listener.localAddress!.port!
        let alice = try h.ca.issue("alice", cn: "alice")
        let saved = try String(contentsOfFile: h.server.key, encoding: .utf8)
        try "garbage".write(toFile: h.server.key, atomically: true, encoding: .utf8)
        await #expect(throws: (any Error).self) { try await h.exchange(port: port, cert: alice.cert, key: alice.key) }
        try saved.write(toFile: h.server.key, atomically: true, encoding: .utf8)
        #expect(try await h.exchange(port: port, cert: alice.cert, key: alice.key) == "ok")
        try await listener.close()
        await h.shutdown()
    }

    @Test func stalledHandshakeIsClosed() async throws {
        let h = try Harness()
        // 3 s, not less: the good handshake below must finish inside the same
        // limit on a loaded 2-core machine (tests run in parallel).
        let listener = try await h.serve(h.side(try h.store(), timeout: .seconds(3)))
        let port = listener.localAddress!.port!
        // TCP connect, then silence: the server gives up on the handshake.
        let raw = try await ClientBootstrap(group: h.group).connect(host: "127.0.0.1", port: port).get()
        try await raw.closeFuture.get()
        let alice = try h.ca.issue("alice", cn: "alice")
        #expect(try await h.exchange(port: port, cert: alice.cert, key: alice.key) == "ok")
        try await listener.close()
        await h.shutdown()
    }

    @Test func loadErrorsUseEtcdsTexts() throws {
        let h = try Harness()
        defer { Task { await h.shutdown() } }
        var s = h.security
        s.certFile = h.ca.dir + "/nope.crt"
        #expect(throws: TLSMaterial.LoadError.self) { try TLSMaterial.load(s) }
        do { _ = try TLSMaterial.load(s) } catch { #expect("\(error)" == "open \(h.ca.dir)/nope.crt: no such file or directory") }
        let other = try h.ca.issue("other", cn: "other")
        s = h.security
        s.keyFile = other.key
        do { _ = try TLSMaterial.load(s); Issue.record("mismatch accepted") } catch {
            #expect("\(error)" == "tls: private key does not match public key")
        }
        s = h.security
        s.certFile = try h.ca.write("empty.crt", "hello\n")
        do { _ = try TLSMaterial.load(s); Issue.record("no PEM accepted") } catch {
            #expect("\(error)" == "tls: failed to find any PEM data in certificate input")
        }
    }

    @Test func selfSignedCertificateAsEtcdMakesIt() throws {
        let dir = NSTemporaryDirectory() + "swift-etcd-auto-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = Date()
        let files = try SelfSignedCertificate.ensure(directory: dir, hosts: ["127.0.0.1:2379", "localhost:2379"],
                                                     validityYears: 3, now: now)
        let material = try TLSMaterial.load({ var s = TransportSecurity(); s.certFile = files.certFile; s.keyFile = files.keyFile; return s }())
        let facts = try CertificateFacts(der: material.chain[0].toDERBytes())
        #expect(facts.ipAddresses == [[127, 0, 0, 1]] && facts.dnsNames == ["localhost"])
        let certificate = try Certificate(derEncoded: material.chain[0].toDERBytes())
        #expect(abs(certificate.notValidAfter.timeIntervalSince(now) - 3 * 365 * 86_400) < 2)
        // Reused, not regenerated.
        let again = try SelfSignedCertificate.ensure(directory: dir, hosts: [], validityYears: 1, now: now)
        #expect(again == files)
        #expect(throws: SelfSignedCertificate.GenerationError.self) {
            try SelfSignedCertificate.ensure(directory: dir + "/x", hosts: [], validityYears: 0)
        }
    }
    /// Two auto TLS members (P-521 keys, as etcd makes them): one serves, the
    /// other dials it with the peer dialer's context and gets an answer.
    @Test func autoTLSMembersHandshakeWithEachOther() async throws {
        let h = try Harness()
        defer { Task { await h.shutdown() } }
        let dir = NSTemporaryDirectory() + "swift-etcd-auto-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func autoStore(_ name: String) throws -> TLSCertificateStore {
            let files = try SelfSignedCertificate.ensure(directory: dir + "/" + name, hosts: ["127.0.0.1:2380"], validityYears: 1)
            var s = TransportSecurity()
            s.certFile = files.certFile
            s.keyFile = files.keyFile
            return try TLSCertificateStore(security: s, policy: TLSPolicy(), selfSigned: true, kinds: [.peer],
                                           side: "peer", logger: h.logger)
        }
        let serving = TLSServerSide(store: try autoStore("a"), kind: .peer, policy: RemoteCertificatePolicy(),
                                    announceCommonName: false, handshakeTimeout: .seconds(10), logger: h.logger)
        let listener = try await h.serve(serving)
        defer { listener.close(promise: nil) }
        let dialer = TLSClientSide(store: try autoStore("b"), policy: RemoteCertificatePolicy())
        let answer = h.group.next().makePromise(of: String.self)
        final class Reader: ChannelInboundHandler, @unchecked Sendable {
            typealias InboundIn = ByteBuffer
            let answer: EventLoopPromise<String>
            init(_ answer: EventLoopPromise<String>) { self.answer = answer }
            func channelRead(context: ChannelHandlerContext, data: NIOAny) { answer.succeed(String(buffer: unwrapInboundIn(data))) }
            func errorCaught(context: ChannelHandlerContext, error: Error) { answer.fail(error) }
            func channelInactive(context: ChannelHandlerContext) { answer.fail(ChannelError.eof) }
        }
        let channel = try await ClientBootstrap(group: h.group)
            .channelInitializer { channel in
                dialer.initialize(channel, host: "127.0.0.1").flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Reader(answer))
                }
            }
            .connect(host: "127.0.0.1", port: listener.localAddress?.port ?? 0).get()
        defer { channel.close(promise: nil) }
        try await channel.writeAndFlush(channel.allocator.buffer(string: "x")).get()
        #expect(try await answer.futureResult.get() == "ok")
    }
}

/// A DER CRL listing `serials`, signed by nothing (etcd reads only the serials).
func writeCRL(ca: TLSTestCA, serials: [[UInt8]], to path: String) throws {
    func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        var out = [tag]
        if body.count < 128 { out.append(UInt8(body.count)) } else {
            out += [0x82, UInt8(body.count >> 8), UInt8(body.count & 0xff)]
        }
        return out + body
    }
    let algorithm = tlv(0x30, tlv(0x06, [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]))
    let issuer = tlv(0x30, [])
    let time = tlv(0x17, Array("260101000000Z".utf8))
    let entries = tlv(0x30, serials.flatMap { tlv(0x30, tlv(0x02, $0) + time) })
    let tbs = tlv(0x30, tlv(0x02, [1]) + algorithm + issuer + time + time + entries)
    let der = tlv(0x30, tbs + algorithm + tlv(0x03, [0]))
    try Data(der).write(to: URL(fileURLWithPath: path))
}
