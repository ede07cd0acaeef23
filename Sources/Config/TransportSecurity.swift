/// One side's TLS settings, as etcd's `transport.TLSInfo` holds them: the
/// client side from `--cert-file`, `--key-file`, … and the peer side from
/// `--peer-cert-file`, `--peer-key-file`, … (or a config file's
/// `client-transport-security` / `peer-transport-security`).
///
/// Files are only named here; the server reads them when it starts and again
/// when they change on disk (etcd re-reads them on every handshake).
public struct TransportSecurity: Sendable, Equatable {
    /// The server certificate (PEM), also presented when this member dials
    /// out unless `clientCertFile` is set.
    public var certFile = ""
    public var keyFile = ""
    /// An explicit certificate for outbound connections (peer dials; the
    /// JSON gateway's calls into gRPC on the client side).
    public var clientCertFile = ""
    public var clientKeyFile = ""
    /// CA bundle (PEM) that remote certificates must chain to. Setting it
    /// also makes the server require client certificates, as etcd does.
    public var trustedCAFile = ""
    /// Require and verify a client certificate at the handshake.
    public var clientCertAuth = false
    /// Certificate revocation list (PEM or DER); serials listed there are refused.
    public var crlFile = ""
    /// Generate a self-signed certificate in the data dir when no files are given.
    public var autoTLS = false
    /// Peer side only (`--peer-cert-allowed-cn`): the remote certificate's CN must be this.
    public var allowedCN = ""
    /// `--client-cert-allowed-hostname` / `--peer-cert-allowed-hostname`:
    /// the remote certificate must be valid for this host name or IP.
    public var allowedHostname = ""
    /// Peer side only (`--experimental-peer-skip-client-san-verification`):
    /// skip matching a peer's certificate SANs against its address.
    public var skipClientSANVerify = false

    public init() {}

    /// etcd's `TLSInfo.Empty`: neither certificate nor key given.
    public var isEmpty: Bool { certFile.isEmpty && keyFile.isEmpty }

    /// The certificate and key this member presents when it dials out.
    public var outboundCertFile: String { clientCertFile.isEmpty ? certFile : clientCertFile }
    public var outboundKeyFile: String { clientCertFile.isEmpty ? keyFile : clientKeyFile }

    /// Whether the server asks for and verifies client certificates (etcd:
    /// a trusted CA file or `client-cert-auth` turns it on).
    public var requiresClientCertificate: Bool { clientCertAuth || !trustedCAFile.isEmpty }
}

/// `--tls-min-version` / `--tls-max-version` values.
public enum TLSProtocolVersion: String, Sendable, Equatable, Comparable {
    case tls12 = "TLS1.2"
    case tls13 = "TLS1.3"

    public static func < (a: Self, b: Self) -> Bool { a == .tls12 && b == .tls13 }
}

/// What applies to both sides: versions, TLS 1.2 cipher suites, the
/// validity of generated certificates.
public struct TLSPolicy: Sendable, Equatable {
    public var minVersion: TLSProtocolVersion = .tls12
    /// nil: the newest the library supports (TLS 1.3), like Go's default.
    public var maxVersion: TLSProtocolVersion?
    /// IANA IDs of `--cipher-suites`, in the given order (empty: the library's defaults).
    public var cipherSuites: [UInt16] = []
    /// `--self-signed-cert-validity`, years.
    public var selfSignedCertValidityYears: UInt64 = 1

    public init() {}
}
