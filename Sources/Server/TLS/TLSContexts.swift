import Config
import NIOSSL

/// What a listener negotiates with ALPN. Detection of HTTP/2 versus
/// HTTP/1.1 is by the first bytes anyway; ALPN only tells clients that
/// insist (grpc-go and grpcio require `h2`). HTTP/1.1 is preferred when a
/// client offers both, so curl and browsers get the JSON gateway and
/// `/health` over HTTP/1.1 while gRPC clients, which offer only `h2`, get HTTP/2.
enum TLSListenerKind: Hashable, Sendable, CaseIterable {
    /// A client URL serving gRPC and HTTP/1.1.
    case grpcAndHTTP
    /// A client URL once `--listen-client-http-urls` is set.
    case grpcOnly
    /// `--listen-client-http-urls`, https `--listen-metrics-urls`.
    case httpOnly
    /// The peer port (swift-etcd's own framing).
    case peer

    var applicationProtocols: [String] {
        switch self {
        case .grpcAndHTTP: return ["http/1.1", "h2"]
        case .grpcOnly: return ["h2"]
        case .httpOnly: return ["http/1.1"]
        case .peer: return []
        }
    }
}

/// BoringSSL contexts for one `TLSMaterial`: one per listener kind (server
/// side) and one for dialing out. Building them is the expensive part of a
/// reload (certificate and key parsing, CA store); a handshake only creates
/// a connection from them.
struct TLSContexts: @unchecked Sendable {
    let material: TLSMaterial
    let server: [TLSListenerKind: NIOSSLContext]
    let client: NIOSSLContext
    /// Why etcd's JSON gateway could not dial this member's gRPC listener
    /// with these certificates (`GatewaySelfHandshake`); nil when it could.
    let gatewayRefusal: String?

    static func build(_ material: TLSMaterial, security: TransportSecurity, policy: TLSPolicy,
                      selfSigned: Bool, kinds: Set<TLSListenerKind>) throws -> TLSContexts {
        var server: [TLSListenerKind: NIOSSLContext] = [:]
        for kind in kinds {
            var c = TLSConfiguration.makeServerConfiguration(
                certificateChain: material.chain.map { .certificate($0) }, privateKey: .privateKey(material.key))
            apply(policy, to: &c)
            if selfSigned && kind != .peer { capAutoTLS(policy, &c) }
            c.applicationProtocols = kind.applicationProtocols
            if security.requiresClientCertificate {
                c.certificateVerification = .noHostnameVerification
                c.trustRoots = material.trustedCAs.map { .certificates($0) } ?? .default
                c.sendCANameList = material.trustedCAs != nil
            } else {
                c.certificateVerification = .none
            }
            server[kind] = try makeContext(c)
        }
        var c = TLSConfiguration.makeClientConfiguration()
        apply(policy, to: &c)
        c.certificateChain = material.outboundChain.map { .certificate($0) }
        c.privateKey = .privateKey(material.outboundKey)
        c.trustRoots = material.trustedCAs.map { .certificates($0) } ?? .default
        // etcd trusts its own generated certificate blindly (InsecureSkipVerify).
        c.certificateVerification = selfSigned ? .none : .fullVerification
        var gatewayRefusal: String?
        if let grpc = server[.grpcAndHTTP] ?? server[.grpcOnly] {
            if !security.allowedHostname.isEmpty {
                gatewayRefusal = GatewaySelfHandshake.allowedHostnameRefusal
            } else if security.requiresClientCertificate {
                gatewayRefusal = GatewaySelfHandshake.check(server: grpc, material: material, policy: policy)
            }
        }
        return TLSContexts(material: material, server: server, client: try makeContext(c), gatewayRefusal: gatewayRefusal)
    }

    /// An `--auto-tls` client listener serves TLS 1.2 at most unless
    /// `--tls-max-version` says otherwise. Its P-521 key can sign TLS 1.3
    /// handshakes only with ecdsa_secp521r1_sha512, which grpcio (BoringSSL)
    /// does not offer, so grpcio failed every handshake; in TLS 1.2 the key
    /// signs with SHA-256 as well. etcd 3.5.1's listeners negotiate TLS 1.2
    /// too. Not the peer listener: TLS 1.2 also needs the certificate's curve
    /// among the client's groups, and our dialer's BoringSSL defaults lack
    /// P-521 (TLS 1.3 with its P-521 signatures works between members).
    private static func capAutoTLS(_ policy: TLSPolicy, _ c: inout TLSConfiguration) {
        guard policy.maxVersion == nil, c.minimumTLSVersion != .tlsv13 else { return }
        c.maximumTLSVersion = .tlsv12
    }

    private static func makeContext(_ c: TLSConfiguration) throws -> NIOSSLContext {
        do { return try NIOSSLContext(configuration: c) } catch {
            // BoringSSL refuses a key that does not match the certificate here.
            throw TLSMaterial.LoadError(description: "tls: \(error)")
        }
    }

    /// Versions and TLS 1.2 suites. Go ignores TLS 1.3 suites in the list
    /// and has no RC4 or CBC-SHA256 suites BoringSSL would offer; what is
    /// left is applied in the given order. A list with no TLS 1.2 suite
    /// BoringSSL knows leaves only TLS 1.3, as in Go.
    static func apply(_ policy: TLSPolicy, to c: inout TLSConfiguration) {
        c.verifySignatureAlgorithms = verifiedSignatureAlgorithms
        c.minimumTLSVersion = policy.minVersion == .tls13 ? .tlsv13 : .tlsv12
        c.maximumTLSVersion = policy.maxVersion.map { $0 == .tls13 ? .tlsv13 : .tlsv12 }
        guard !policy.cipherSuites.isEmpty else { return }
        let usable = policy.cipherSuites.filter { !GoCipherSuites.isTLS13($0) && boringSSLSuites.contains($0) }
        if usable.isEmpty {
            if c.maximumTLSVersion != .tlsv12 { c.minimumTLSVersion = .tlsv13 }
        } else {
            c.cipherSuiteValues = usable.map { NIOTLSCipher(rawValue: $0) }
        }
    }

    /// The handshake signatures accepted from the other side: BoringSSL's
    /// defaults plus ECDSA P-521 and Ed25519, which Go accepts too. etcd's
    /// auto TLS certificates are P-521 keys (ours as well): with BoringSSL's
    /// defaults, a member dialing a `--peer-auto-tls` peer fails every handshake.
    static let verifiedSignatureAlgorithms: [SignatureAlgorithm] = [
        .ecdsaSecp256R1Sha256, .rsaPssRsaeSha256, .rsaPkcs1Sha256,
        .ecdsaSecp384R1Sha384, .rsaPssRsaeSha384, .rsaPkcs1Sha384,
        .rsaPssRsaeSha512, .rsaPkcs1Sha512, .ecdsaSecp521R1Sha512, .ed25519,
        .rsaPkcs1Sha1,
    ]

    /// TLS 1.2 suites BoringSSL implements (of Go's list).
    static let boringSSLSuites: Set<UInt16> = [
        0x002F, 0x0035, 0x009C, 0x009D, 0xC009, 0xC00A, 0xC013, 0xC014, 0xC02B, 0xC02C,
        0xC02F, 0xC030, 0xCCA8, 0xCCA9,
    ]
}
