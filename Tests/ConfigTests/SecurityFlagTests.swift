import Testing
@testable import Config

/// The TLS flags: how they are read and etcd's checks on them (etcd 3.5's
/// `embed.Config.Validate`, `transport.TLSInfo.baseConfig`, listener set-up).
@Suite struct SecurityFlagTests {
    let https = ["--listen-client-urls", "https://127.0.0.1:2379", "--advertise-client-urls", "https://127.0.0.1:2379"]
    let peerHTTPS = ["--listen-peer-urls", "https://127.0.0.1:2380", "--initial-advertise-peer-urls", "https://127.0.0.1:2380",
                     "--initial-cluster", "default=https://127.0.0.1:2380"]

    @Test func clientFlagsAreRead() throws {
        let c = try runConfig(https + ["--cert-file", "/s.crt", "--key-file", "/s.key", "--trusted-ca-file", "/ca.crt",
                                       "--client-cert-auth", "--client-crl-file", "/crl.pem",
                                       "--client-cert-allowed-hostname", "client.example",
                                       "--client-cert-file", "/c.crt", "--client-key-file", "/c.key"])
        let s = c.clientSecurity
        #expect(s.certFile == "/s.crt" && s.keyFile == "/s.key" && s.trustedCAFile == "/ca.crt")
        #expect(s.clientCertAuth && s.crlFile == "/crl.pem" && s.allowedHostname == "client.example")
        #expect(s.outboundCertFile == "/c.crt" && s.outboundKeyFile == "/c.key")
        #expect(s.requiresClientCertificate)
        #expect(c.listenClientURLs.allSatisfy { $0.isSecure })
    }

    @Test func peerFlagsAreRead() throws {
        let c = try runConfig(peerHTTPS + ["--peer-cert-file", "/p.crt", "--peer-key-file", "/p.key",
                                           "--peer-trusted-ca-file", "/ca.crt", "--peer-client-cert-auth",
                                           "--peer-crl-file", "/crl", "--peer-cert-allowed-cn", "etcd-peer",
                                           "--experimental-peer-skip-client-san-verification",
                                           "--peer-client-cert-file", "/pc.crt", "--peer-client-key-file", "/pc.key"])
        let s = c.peerSecurity
        #expect(s.certFile == "/p.crt" && s.keyFile == "/p.key" && s.trustedCAFile == "/ca.crt" && s.clientCertAuth)
        #expect(s.crlFile == "/crl" && s.allowedCN == "etcd-peer" && s.skipClientSANVerify)
        #expect(s.outboundCertFile == "/pc.crt" && s.outboundKeyFile == "/pc.key")
    }

    @Test func trustedCAAloneRequiresClientCertificates() throws {
        var s = TransportSecurity()
        s.trustedCAFile = "/ca.crt"
        #expect(s.requiresClientCertificate)
        #expect(!TransportSecurity().requiresClientCertificate)
    }

    @Test func versionsAndCipherSuites() throws {
        let c = try runConfig(["--tls-min-version", "TLS1.2", "--tls-max-version", "TLS1.3",
                               "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
                               "--self-signed-cert-validity", "3"])
        #expect(c.tlsPolicy.minVersion == .tls12 && c.tlsPolicy.maxVersion == .tls13)
        #expect(c.tlsPolicy.cipherSuites == [0xC02F, 0xCCA8])
        #expect(c.tlsPolicy.selfSignedCertValidityYears == 3)
        #expect(try runConfig([]).tlsPolicy.maxVersion == nil)
    }

    @Test(arguments: [
        (["--cipher-suites", "FOO"], "unexpected TLS cipher suite \"FOO\""),
        (["--tls-min-version", "TLS1.3", "--tls-max-version", "TLS1.2"], "min version (TLS1.3) is greater than max version (TLS1.2)"),
        (["--tls-min-version", "TLS1.3", "--cipher-suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
         "cipher suites cannot be configured when only TLS1.3 is enabled"),
        (["--listen-metrics-urls", "https://127.0.0.1:2381"],
         "cannot listen on TLS for 127.0.0.1:2381: KeyFile and CertFile are not presented"),
        (["--listen-client-http-urls", "https://127.0.0.1:2382"],
         "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.0.1:2382 with HTTPS scheme"),
        (["--auto-tls", "--self-signed-cert-validity", "0"], "selfSignedCertValidity is invalid,it should be greater than 0"),
    ])
    func invalidSettings(args: [String], message: String) throws {
        let e = try runError(args)
        #expect(e.message == message)
        #expect(e.code == 1)
    }

    @Test func peerHTTPSWithoutCerts() throws {
        let e = try runError(peerHTTPS)
        #expect(e.message == "TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url https://127.0.0.1:2380 with HTTPS scheme")
    }

    @Test func certWithoutKey() throws {
        let e = try runError(https + ["--cert-file", "server.crt"])
        #expect(e.message == "KeyFile and CertFile must both be present[key: , cert: server.crt]")
    }

    @Test func clientCertWithoutClientKey() throws {
        let e = try runError(https + ["--cert-file", "s.crt", "--key-file", "s.key", "--client-cert-file", "c.crt"])
        #expect(e.message == "ClientKeyFile and ClientCertFile must both be present or both absent: key: , cert: c.crt]")
    }

    @Test func allowedCNAndHostnameExclude() throws {
        let e = try runError(["--peer-cert-file", "p.crt", "--peer-key-file", "p.key", "--peer-cert-allowed-cn", "a",
                              "--peer-cert-allowed-hostname", "b"])
        #expect(e.message == "AllowedCN and AllowedHostname are mutually exclusive (cn=\"a\", hostname=\"b\")")
    }

    @Test func autoTLSNeedsNoFiles() throws {
        let c = try runConfig(https + ["--auto-tls"] + peerHTTPS + ["--peer-auto-tls"])
        #expect(c.clientSecurity.autoTLS && c.clientSecurity.isEmpty)
        #expect(c.peerSecurity.autoTLS)
    }

    @Test func httpURLsWithCertsWarn() throws {
        let c = try runConfig(["--cert-file", "s.crt", "--key-file", "s.key", "--client-cert-auth"])
        #expect(c.warnings.contains("scheme is HTTP while key and cert files are present; ignoring key and cert files (client-url http://localhost:2379)"))
        #expect(c.warnings.contains("scheme is HTTP while --client-cert-auth is enabled; ignoring client cert auth for this URL (client-url http://localhost:2379)"))
    }

    @Test func autoTLSWithCertsWarns() throws {
        let c = try runConfig(https + ["--auto-tls", "--cert-file", "s.crt", "--key-file", "s.key"])
        #expect(c.warnings.contains("ignoring client auto TLS since certs given"))
    }

    @Test func listenClientHTTPURLsAreRead() throws {
        let c = try runConfig(["--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
                               "--listen-client-http-urls", "http://127.0.0.1:2378"])
        #expect(c.listenClientHTTPURLs.map(\.string) == ["http://127.0.0.1:2378"])
    }

    @Test func everyGoCipherSuiteNameIsKnown() throws {
        #expect(GoCipherSuites.byName.count == 27)
        #expect(try GoCipherSuites.ids(["TLS_AES_128_GCM_SHA256"]) == [0x1301])
        #expect(GoCipherSuites.isTLS13(0x1301) && !GoCipherSuites.isTLS13(0xC02F))
    }
}
