/// The TLS flags: reading them (`applySecurity`), etcd's checks on them
/// (`validateSecurity`, with etcd's messages), and etcd's start-up warnings
/// for settings that have no effect (`securityWarnings`). Whether the named
/// files exist, parse and match is checked by the server when it loads them.
extension EtcdConfig {
    mutating func applySecurity(_ values: [String: FlagValue]) {
        func str(_ n: String) -> String { values[n]?.stringValue ?? "" }
        func bool(_ n: String) -> Bool { values[n]?.boolValue ?? false }

        clientSecurity.certFile = str("cert-file")
        clientSecurity.keyFile = str("key-file")
        clientSecurity.clientCertFile = str("client-cert-file")
        clientSecurity.clientKeyFile = str("client-key-file")
        clientSecurity.trustedCAFile = str("trusted-ca-file")
        clientSecurity.clientCertAuth = bool("client-cert-auth")
        clientSecurity.crlFile = str("client-crl-file")
        clientSecurity.autoTLS = bool("auto-tls")
        clientSecurity.allowedHostname = str("client-cert-allowed-hostname")

        peerSecurity.certFile = str("peer-cert-file")
        peerSecurity.keyFile = str("peer-key-file")
        peerSecurity.clientCertFile = str("peer-client-cert-file")
        peerSecurity.clientKeyFile = str("peer-client-key-file")
        peerSecurity.trustedCAFile = str("peer-trusted-ca-file")
        peerSecurity.clientCertAuth = bool("peer-client-cert-auth")
        peerSecurity.crlFile = str("peer-crl-file")
        peerSecurity.autoTLS = bool("peer-auto-tls")
        peerSecurity.allowedCN = str("peer-cert-allowed-cn")
        peerSecurity.allowedHostname = str("peer-cert-allowed-hostname")
        peerSecurity.skipClientSANVerify = bool("experimental-peer-skip-client-san-verification")

        cipherSuiteNames = values["cipher-suites"]?.stringsValue ?? []
        if let v = values["tls-min-version"]?.stringValue, let version = TLSProtocolVersion(rawValue: v) {
            tlsPolicy.minVersion = version
        }
        if let v = values["tls-max-version"]?.stringValue { tlsPolicy.maxVersion = TLSProtocolVersion(rawValue: v) }
        if let v = values["self-signed-cert-validity"]?.uintValue { tlsPolicy.selfSignedCertValidityYears = v }
        // Checked (with etcd's message) by validateSecurity.
        tlsPolicy.cipherSuites = (try? GoCipherSuites.ids(cipherSuiteNames)) ?? []
    }

    /// Client-side listeners that speak TLS: client, client HTTP and metrics URLs.
    var hasSecureClientListener: Bool {
        (listenClientURLs + listenClientHTTPURLs + listenMetricsURLs).contains(where: \.isSecure)
    }

    func validateSecurity() throws(CommandLineError) {
        func fail(_ message: String) -> CommandLineError { .invalid(message) }

        if let max = tlsPolicy.maxVersion, tlsPolicy.minVersion > max {
            throw fail("min version (\(tlsPolicy.minVersion.rawValue)) is greater than max version (\(max.rawValue))")
        }
        do { _ = try GoCipherSuites.ids(cipherSuiteNames) } catch { throw fail(error.message) }
        if tlsPolicy.minVersion == .tls13 && !cipherSuiteNames.isEmpty {
            throw fail("cipher suites cannot be configured when only TLS1.3 is enabled")
        }

        // etcd checks these as it opens listeners (embed/etcd.go, transport).
        for u in listenClientURLs + listenClientHTTPURLs where u.isSecure && clientSecurity.isEmpty && !clientSecurity.autoTLS {
            throw fail("TLS key/cert (--cert-file, --key-file) must be provided for client url \(u.string) with HTTPS scheme")
        }
        for u in listenMetricsURLs where u.isSecure && clientSecurity.isEmpty && !clientSecurity.autoTLS {
            throw fail("cannot listen on TLS for \(u.host.contains(":") ? "[\(u.host)]" : u.host):\(u.port): KeyFile and CertFile are not presented")
        }
        for u in listenPeerURLs where u.isSecure && peerSecurity.isEmpty && !peerSecurity.autoTLS {
            throw fail("TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url \(u.string) with HTTPS scheme")
        }
        if clientSecurity.autoTLS && clientSecurity.isEmpty && tlsPolicy.selfSignedCertValidityYears == 0 {
            throw fail("selfSignedCertValidity is invalid,it should be greater than 0")
        }
        if peerSecurity.autoTLS && peerSecurity.isEmpty && tlsPolicy.selfSignedCertValidityYears == 0 {
            throw fail("selfSignedCertValidity is invalid,it should be greater than 0")
        }
        // etcd builds the client TLS config only for a TLS listener, the peer
        // one whenever peer files are given.
        if hasSecureClientListener { try Self.checkPairs(clientSecurity) }
        if !peerSecurity.isEmpty || listenPeerURLs.contains(where: \.isSecure) { try Self.checkPairs(peerSecurity) }
    }

    /// etcd's `TLSInfo.baseConfig` checks that need no file.
    private static func checkPairs(_ s: TransportSecurity) throws(CommandLineError) {
        if s.autoTLS && s.isEmpty { return }
        if s.keyFile.isEmpty || s.certFile.isEmpty {
            throw .invalid("KeyFile and CertFile must both be present[key: \(s.keyFile), cert: \(s.certFile)]")
        }
        if s.clientKeyFile.isEmpty != s.clientCertFile.isEmpty {
            throw .invalid("ClientKeyFile and ClientCertFile must both be present or both absent: key: \(s.clientKeyFile), cert: \(s.clientCertFile)]")
        }
        if !s.allowedCN.isEmpty && !s.allowedHostname.isEmpty {
            throw .invalid("AllowedCN and AllowedHostname are mutually exclusive (cn=\"\(s.allowedCN)\", hostname=\"\(s.allowedHostname)\")")
        }
    }

    /// etcd's warnings for TLS settings that a URL's scheme makes moot.
    var securityWarnings: [String] {
        var out: [String] = []
        if clientSecurity.autoTLS && !clientSecurity.isEmpty { out.append("ignoring client auto TLS since certs given") }
        if peerSecurity.autoTLS && !peerSecurity.isEmpty { out.append("ignoring peer auto TLS since certs given") }
        for u in listenClientURLs + listenClientHTTPURLs where u.scheme == "http" {
            if !clientSecurity.isEmpty {
                out.append("scheme is HTTP while key and cert files are present; ignoring key and cert files (client-url \(u.string))")
            }
            if clientSecurity.clientCertAuth {
                out.append("scheme is HTTP while --client-cert-auth is enabled; ignoring client cert auth for this URL (client-url \(u.string))")
            }
        }
        for u in listenPeerURLs where u.scheme == "http" {
            if !peerSecurity.isEmpty {
                out.append("scheme is HTTP while key and cert files are present; ignoring key and cert files (peer-url \(u.string))")
            }
            if peerSecurity.clientCertAuth {
                out.append("scheme is HTTP while --peer-client-cert-auth is enabled; ignoring client cert auth for this URL (peer-url \(u.string))")
            }
        }
        return out
    }
}
