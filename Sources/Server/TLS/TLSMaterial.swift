import NIOSSL
import SwiftASN1
import X509
import Config

/// One side's certificates as read from disk at one moment: what a
/// handshake presents, what it trusts, what it refuses. Loading checks what
/// etcd checks (both files present, PEM data, key matching certificate) and
/// fails with etcd's (Go's) texts.
struct TLSMaterial: @unchecked Sendable {
    /// Presented by this member's listeners.
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// Presented when this member dials out (`--peer-client-cert-file`, else the server pair).
    let outboundChain: [NIOSSLCertificate]
    let outboundKey: NIOSSLPrivateKey
    /// CN of the outbound certificate: who the JSON gateway calls gRPC as.
    let outboundCommonName: String
    /// `--trusted-ca-file`; nil: the system's roots.
    let trustedCAs: [NIOSSLCertificate]?
    /// The same CAs parsed by swift-certificates (`HandshakeVerifier`'s roots).
    let trustedRoots: [Certificate]?
    let crl: CertificateRevocationList?

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// The files a reload watches.
    static func files(_ s: TransportSecurity) -> [String] {
        [s.certFile, s.keyFile, s.clientCertFile, s.clientKeyFile, s.trustedCAFile, s.crlFile].filter { !$0.isEmpty }
    }

    static func load(_ s: TransportSecurity) throws -> TLSMaterial {
        guard !s.certFile.isEmpty, !s.keyFile.isEmpty else {
            throw LoadError(description: "KeyFile and CertFile must both be present[key: \(s.keyFile), cert: \(s.certFile)]")
        }
        let server = try loadPair(certFile: s.certFile, keyFile: s.keyFile)
        var outbound = server
        if !s.clientCertFile.isEmpty || !s.clientKeyFile.isEmpty {
            guard !s.clientCertFile.isEmpty, !s.clientKeyFile.isEmpty else {
                throw LoadError(description: "ClientKeyFile and ClientCertFile must both be present or both absent: key: \(s.clientKeyFile), cert: \(s.clientCertFile)]")
            }
            outbound = try loadPair(certFile: s.clientCertFile, keyFile: s.clientKeyFile)
        }
        var cas: [NIOSSLCertificate]?
        var roots: [Certificate]?
        if !s.trustedCAFile.isEmpty { (cas, roots) = try loadCAs(s.trustedCAFile) }
        var crl: CertificateRevocationList?
        if !s.crlFile.isEmpty {
            let bytes = try readFile(s.crlFile)
            do { crl = try CertificateRevocationList(bytes: bytes) } catch { throw LoadError(description: "\(error)") }
        }
        return TLSMaterial(chain: server.chain, key: server.key, outboundChain: outbound.chain, outboundKey: outbound.key,
                           outboundCommonName: outbound.commonName, trustedCAs: cas, trustedRoots: roots, crl: crl)
    }

    private struct Pair {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var commonName: String
    }

    /// Go's `tls.X509KeyPair` checks, then BoringSSL's objects.
    private static func loadPair(certFile: String, keyFile: String) throws -> Pair {
        let certBytes = try readFile(certFile)
        let keyBytes = try readFile(keyFile)
        let certDocs = PEMBlocks.parse(certBytes).filter { $0.discriminator == "CERTIFICATE" }
        guard let leafDoc = certDocs.first else {
            throw LoadError(description: "tls: failed to find any PEM data in certificate input")
        }
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: leafDoc.derBytes) } catch {
            throw LoadError(description: "tls: failed to parse certificate: x509: malformed certificate")
        }
        let keyDocs = PEMBlocks.parse(keyBytes)
        guard !keyDocs.isEmpty else { throw LoadError(description: "tls: failed to find any PEM data in key input") }
        guard let keyDoc = keyDocs.first(where: { $0.discriminator == "PRIVATE KEY" || $0.discriminator.hasSuffix(" PRIVATE KEY") }) else {
            let types = keyDocs.map(\.discriminator).joined(separator: " ")
            throw LoadError(description: "tls: failed to find \"PRIVATE KEY\" PEM block in key input after skipping PEM blocks of the following types: [\(types)]")
        }
        // Compare public keys where swift-certificates reads the key type;
        // BoringSSL checks the rest when the context is built.
        if let privateKey = try? Certificate.PrivateKey(pemDocument: keyDoc), privateKey.publicKey != leaf.publicKey {
            throw LoadError(description: "tls: private key does not match public key")
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try certDocs.map { try NIOSSLCertificate(bytes: $0.derBytes, format: .der) }
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            throw LoadError(description: "tls: failed to parse private key")
        }
        return Pair(chain: chain, key: key, commonName: (try? CertificateFacts(leaf).commonName) ?? "")
    }

    /// Go's `tlsutil.NewCertPool`: every PEM block must be a certificate that parses.
    private static func loadCAs(_ path: String) throws -> ([NIOSSLCertificate], [Certificate]) {
        let bytes = try readFile(path)
        let docs = PEMBlocks.parse(bytes)
        var out: [NIOSSLCertificate] = []
        var parsed: [Certificate] = []
        for doc in docs {
            do {
                parsed.append(try Certificate(derEncoded: doc.derBytes))
                out.append(try NIOSSLCertificate(bytes: doc.derBytes, format: .der))
            } catch {
                throw LoadError(description: "x509: malformed certificate")
            }
        }
        return (out, parsed)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        do { return try TLSFile.read(path) } catch { throw LoadError(description: "\(error)") }
    }
}
