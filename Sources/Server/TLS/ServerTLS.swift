import Config
import Logging
import NIOCore

/// The member's TLS, assembled from `ServerOptions` at start-up: one
/// `TLSCertificateStore` per side that needs one (auto-generated
/// certificates first, with `--auto-tls` / `--peer-auto-tls`), and the
/// per-listener layers built from them. Loading errors stop start-up with
/// etcd's texts (`open server.crt: no such file or directory`,
/// `tls: private key does not match public key`).
struct ServerTLS: Sendable {
    /// Client, client HTTP and metrics listeners; nil when none is https.
    let client: TLSCertificateStore?
    /// The peer listener and peer dials; nil when no peer TLS is configured.
    let peer: TLSCertificateStore?
    let handshakeTimeout: TimeAmount
    let logger: Logger

    static func make(options: ServerOptions, logger: Logger) throws -> ServerTLS {
        var clientKinds = Set<TLSListenerKind>()
        for l in options.listenClient where l.secure { clientKinds.insert(options.listenClientHTTP.isEmpty ? .grpcAndHTTP : .grpcOnly) }
        for l in options.listenClientHTTP + options.listenMetrics where l.secure { clientKinds.insert(.httpOnly) }
        var client: TLSCertificateStore?
        if !clientKinds.isEmpty {
            let (security, selfSigned) = try resolve(options.clientSecurity, side: "client", options: options,
                                                     hosts: (options.listenClient + options.listenClientHTTP).map(hostPort))
            client = try TLSCertificateStore(security: security, policy: options.tlsPolicy, selfSigned: selfSigned,
                                             kinds: clientKinds, side: "client", logger: logger)
            logger.info("starting with client TLS", metadata: ["tls-info": "\(describe(security))",
                                                               "cipher-suites": "\(options.tlsPolicy.cipherSuites)"])
        }
        let peerURLs = options.initialCluster.flatMap(\.peerURLs) + options.initialAdvertisePeerURLs
        let peerSecure = options.listenPeer.contains(where: \.secure) || peerURLs.contains { $0.lowercased().hasPrefix("https://") }
        var peer: TLSCertificateStore?
        if peerSecure || !options.peerSecurity.isEmpty || options.peerSecurity.autoTLS {
            let (security, selfSigned) = try resolve(options.peerSecurity, side: "peer", options: options,
                                                     hosts: options.listenPeer.map(hostPort))
            if !security.isEmpty {
                peer = try TLSCertificateStore(security: security, policy: options.tlsPolicy, selfSigned: selfSigned,
                                               kinds: options.listenPeer.contains(where: \.secure) ? [.peer] : [],
                                               side: "peer", logger: logger)
                logger.info("starting with peer TLS", metadata: ["tls-info": "\(describe(security))",
                                                                 "cipher-suites": "\(options.tlsPolicy.cipherSuites)"])
            }
        }
        return ServerTLS(client: client, peer: peer,
                         handshakeTimeout: .milliseconds(Int64(max(1, options.tlsHandshakeTimeoutMs))), logger: logger)
    }

    /// The TLS layer of an https client-side listener.
    func clientListener(_ kind: TLSListenerKind, metrics: Bool = false) -> TLSServerSide? {
        guard let client else { return nil }
        // etcd: client listeners check only --client-cert-allowed-hostname
        // and the CRL; its https metrics listener also matches SANs to the address.
        let policy = RemoteCertificatePolicy(allowedHostname: client.security.allowedHostname, checkSANAgainstAddress: metrics)
        return TLSServerSide(store: client, kind: kind, policy: policy,
                             announceCommonName: client.security.clientCertAuth && !metrics,
                             handshakeTimeout: handshakeTimeout, logger: logger)
    }

    /// The TLS layer of an https peer listener.
    var peerListener: TLSServerSide? {
        guard let peer else { return nil }
        let s = peer.security
        let policy = RemoteCertificatePolicy(allowedCN: s.allowedCN, allowedHostname: s.allowedHostname,
                                             checkSANAgainstAddress: !s.skipClientSANVerify)
        return TLSServerSide(store: peer, kind: .peer, policy: policy, announceCommonName: false,
                             handshakeTimeout: handshakeTimeout, logger: logger)
    }

    /// TLS for dialing `https://` peer URLs.
    var peerDialer: TLSClientSide? {
        guard let peer else { return nil }
        return TLSClientSide(store: peer, policy: RemoteCertificatePolicy(allowedCN: peer.security.allowedCN,
                                                                          allowedHostname: peer.security.allowedHostname))
    }

    /// How the JSON gateway on a TLS listener reaches gRPC, as etcd's gateway
    /// dials its own server presenting `--client-cert-file` (else
    /// `--cert-file`): with `--client-cert-auth` calls run as that
    /// certificate's CN; when the listener would refuse the certificate
    /// (say a server-only one), every call fails as etcd's do.
    var gatewayDial: GatewayDial {
        guard let client else { return .identity(nil) }
        let contexts = client.current
        if let refusal = contexts.gatewayRefusal { return .refused(refusal) }
        return .identity(client.security.clientCertAuth ? contexts.material.outboundCommonName : nil)
    }

    enum GatewayDial {
        /// The verified CN gRPC sees (nil: none).
        case identity(String?)
        /// grpc-go's dial error, answered as gRPC code 14.
        case refused(String)
    }

    /// Auto TLS fills in generated files when none are given (etcd warns and
    /// ignores auto TLS when they are).
    private static func resolve(_ security: TransportSecurity, side: String, options: ServerOptions,
                                hosts: [String]) throws -> (TransportSecurity, Bool) {
        guard security.autoTLS, security.isEmpty else { return (security, false) }
        let dir = options.dataDir + "/fixtures/" + side
        let files = try SelfSignedCertificate.ensure(directory: dir, hosts: hosts,
                                                     validityYears: options.tlsPolicy.selfSignedCertValidityYears)
        var s = security
        s.certFile = files.certFile
        s.keyFile = files.keyFile
        s.clientCertFile = ""
        s.clientKeyFile = ""
        return (s, true)
    }

    private static func hostPort(_ l: ServerOptions.Listener) -> String {
        l.host.contains(":") ? "[\(l.host)]:\(l.port)" : "\(l.host):\(l.port)"
    }

    private static func describe(_ s: TransportSecurity) -> String {
        "cert = \(s.certFile), key = \(s.keyFile), client-cert=\(s.clientCertFile), client-key=\(s.clientKeyFile), trusted-ca = \(s.trustedCAFile), client-cert-auth = \(s.clientCertAuth), crl-file = \(s.crlFile)"
    }
}
