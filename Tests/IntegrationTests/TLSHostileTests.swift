import Foundation
import Testing

/// Hostile clients on a TLS client port: garbage instead of a ClientHello, a
/// handshake that never finishes, hundreds of half-open handshakes. Each
/// costs only its own connection; the member keeps serving everyone else.
@Suite(.serialized) struct TLSHostileTests {
    /// A raw TCP connection to 127.0.0.1:`port`.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            guard let fd = connectedSocket(port: port) else { throw TestSetupError("connect failed: \(errno)") }
            self.fd = fd
        }

        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

        /// Waits up to `seconds` for the server to close (EOF or reset);
        /// returns the bytes it sent before, nil when it stayed open.
        func waitForClose(seconds: Double) -> [UInt8]? {
            var received: [UInt8] = []
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 200) > 0 else { continue }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return received }
                received += buffer[0..<n]
            }
            return nil
        }

        deinit { close(fd) }
    }

    /// A TLS record header and the start of a ClientHello, never completed.
    static let partialClientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]

    let pki: TestPKI
    let server: TestPKI.Pair
    let client: TestPKI.Pair

    init() throws {
        pki = try TestPKI()
        server = try pki.issue("server", cn: "server", ips: ["127.0.0.1"])
        client = try pki.issue("client", cn: "root", clientOnly: true)
    }

    func start() throws -> ServerProcess {
        let m = try ServerProcess(extraArgs: ["--cert-file", server.cert, "--key-file", server.key,
                                              "--trusted-ca-file", pki.caCert, "--client-cert-auth"], clientScheme: "https")
        try m.start()
        return m
    }

    func works(_ m: ServerProcess, _ key: String) throws -> Bool {
        let tls = ["--cacert", pki.caCert, "--cert", client.cert, "--key", client.key]
        let put = try etcdctl(m.clientURL, tls + ["put", key, "v"])
        let get = try etcdctl(m.clientURL, tls + ["get", key, "--print-value-only"])
        return put.exitCode == 0 && get.stdout == "v\n"
    }

    @Test func garbageInsteadOfClientHello() throws {
        let m = try start()
        defer { m.stop(); m.removeData(); pki.remove() }
        for garbage in [Array("GET / HTTP/1.1\r\n\r\n".utf8), Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8),
                        (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }] {
            let c = try RawConnection(port: m.clientPort)
            c.send(garbage)
            let answer = c.waitForClose(seconds: 10)
            #expect(answer != nil, "connection left open after garbage")
            // At most a TLS alert record, never an HTTP answer.
            #expect(answer.map { $0.isEmpty || $0[0] == 0x15 } ?? false, "\(answer ?? [])")
        }
        #expect(try works(m, "after-garbage"))
    }

    @Test func handshakeThatNeverFinishesIsClosed() throws {
        let m = try start()
        defer { m.stop(); m.removeData(); pki.remove() }
        let silent = try RawConnection(port: m.clientPort)
        let stalled = try RawConnection(port: m.clientPort)
        stalled.send(Self.partialClientHello)
        // Served meanwhile.
        #expect(try works(m, "during-stall"))
        // The handshake timeout (10 s) closes both.
        #expect(silent.waitForClose(seconds: 30) != nil)
        #expect(stalled.waitForClose(seconds: 30) != nil)
        #expect(try works(m, "after-stall"))
    }

    @Test func manyHalfOpenHandshakes() throws {
        let m = try start()
        defer { m.stop(); m.removeData(); pki.remove() }
        var open: [RawConnection] = []
        for i in 0..<300 {
            let c = try RawConnection(port: m.clientPort)
            if i % 2 == 0 { c.send(Self.partialClientHello) }
            open.append(c)
        }
        #expect(try works(m, "with-300-half-open"))
        // Go clientv3 too, on new connections.
        let go = try GoPrograms.binary("tlsclient")
        let r = try ProcessRunner.run(go, ["-endpoints", m.clientURL, "-cacert", pki.caCert, "-cert", client.cert,
                                           "-key", client.key, "-mode", "putget"], timeoutSeconds: 60)
        #expect(r.exitCode == 0, "\(r.stderr)")
        var closed = 0
        for c in open where c.waitForClose(seconds: 30) != nil { closed += 1 }
        #expect(closed == open.count)
        #expect(m.process?.isRunning == true)
    }
}
