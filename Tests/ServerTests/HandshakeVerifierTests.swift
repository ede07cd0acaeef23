import Foundation
import NIOSSL
import Testing
import X509
@testable import Server

/// `HandshakeVerifier`: the chain check that replaces BoringSSL's inside
/// the handshake when `--*-cert-allowed-cn` / `-hostname` is set, and the
/// texts failures are logged with.
@Suite struct HandshakeVerifierTests {
    static func chain(_ certificate: Certificate) throws -> [NIOSSLCertificate] {
        [try NIOSSLCertificate(bytes: certificate.serializeAsPEM().derBytes, format: .der)]
    }

    @Test func chainThenEtcdsChecks() async throws {
        let ca = try TLSTestCA()
        let other = try TLSTestCA(commonName: "other-ca")
        defer { try? FileManager.default.removeItem(atPath: ca.dir); try? FileManager.default.removeItem(atPath: other.dir) }
        let peer = try ca.issue("peer", cn: "etcd-peer", ips: ["127.0.0.1"], serial: [0x10, 0x04]).certificate
        let intruder = try ca.issue("intruder", cn: "someone").certificate
        let stranger = try other.issue("stranger", cn: "etcd-peer").certificate
        let expired = try ca.issue("expired", cn: "etcd-peer", notAfter: Date().addingTimeInterval(-60)).certificate
        let verifier = HandshakeVerifier(roots: [ca.certificate], purpose: .clientAuth,
                                         policy: RemoteCertificatePolicy(allowedCN: "etcd-peer"), crl: nil)

        let accepted = await verifier.verify(chain: try Self.chain(peer), remoteIP: nil)
        #expect(accepted.refusal == nil && accepted.commonName == "etcd-peer")
        #expect(await verifier.verify(chain: try Self.chain(intruder), remoteIP: nil).refusal
                == "client certificate authentication failed")
        #expect(await verifier.verify(chain: try Self.chain(stranger), remoteIP: nil).refusal
                == "x509: certificate signed by unknown authority")
        #expect(await verifier.verify(chain: try Self.chain(expired), remoteIP: nil).refusal
                == "x509: certificate has expired or is not yet valid")

        // The CRL (every presented certificate, as etcd) and the allowed hostname.
        let revoking = HandshakeVerifier(roots: [ca.certificate], purpose: .clientAuth,
                                     policy: RemoteCertificatePolicy(allowedHostname: "127.0.0.1"),
                                     crl: CertificateRevocationList(revokedSerials: [[0x10, 0x04]]))
        #expect(await revoking.verify(chain: try Self.chain(peer), remoteIP: nil).refusal
                == "transport: certificate serial 1004 revoked")
        let byHostname = HandshakeVerifier(roots: [ca.certificate], purpose: .serverAuth,
                                           policy: RemoteCertificatePolicy(allowedHostname: "127.0.0.1"), crl: nil)
        #expect(await byHostname.verify(chain: try Self.chain(peer), remoteIP: nil).refusal == nil)
        #expect(await byHostname.verify(chain: try Self.chain(intruder), remoteIP: nil).refusal
                == "client certificate authentication failed")
    }

    /// A leaf whose extended key usage names only serverAuth is no client
    /// certificate (Go's KeyUsages check), and the reverse.
    @Test func extendedKeyUsageIsChecked() throws {
        let ca = try TLSTestCA()
        defer { try? FileManager.default.removeItem(atPath: ca.dir) }
        let both = try ca.issue("both", cn: "x").certificate
        #expect(ExtendedKeyUsagePolicy.allows(both, purpose: .clientAuth))
        #expect(ExtendedKeyUsagePolicy.allows(both, purpose: .serverAuth))
        #expect(ExtendedKeyUsagePolicy.allows(ca.certificate, purpose: .clientAuth), "no extension: any use")
        let serverOnly = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: both.publicKey, notValidBefore: both.notValidBefore,
            notValidAfter: both.notValidAfter, issuer: both.issuer, subject: both.subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { try ExtendedKeyUsage([.serverAuth]) }, issuerPrivateKey: .init(ca.key))
        #expect(!ExtendedKeyUsagePolicy.allows(serverOnly, purpose: .clientAuth))
        #expect(ExtendedKeyUsagePolicy.allows(serverOnly, purpose: .serverAuth))
    }

    /// Alerts refusing our certificate read as etcd's log line whichever the
    /// sender (Go sends bad_certificate, BoringSSL certificate_unknown).
    @Test func errorTextsAsGoLogsThem() {
        #expect(TLSErrorText.describe(TLSRefusal(reason: "client certificate authentication failed"))
                == "client certificate authentication failed")
        #expect(TLSErrorText.describe(ChannelErrorLike()) == "other")
        let prefix = "sslError([Error: 268436502 error:10000416:SSL routines:OPENSSL_internal:"
        #expect(TLSErrorText.goText(boringSSL: prefix + "SSLV3_ALERT_CERTIFICATE_UNKNOWN])") == "remote error: tls: bad certificate")
        #expect(TLSErrorText.goText(boringSSL: prefix + "SSLV3_ALERT_BAD_CERTIFICATE])") == "remote error: tls: bad certificate")
        #expect(TLSErrorText.goText(boringSSL: prefix + "TLSV1_ALERT_UNKNOWN_CA])") == "remote error: tls: bad certificate")
        #expect(TLSErrorText.goText(boringSSL: prefix + "SSLV3_ALERT_HANDSHAKE_FAILURE])") == "remote error: tls: handshake failure")
        #expect(TLSErrorText.goText(boringSSL: "sslError([Error:  EOF during handshake])") == "EOF")
        #expect(TLSErrorText.goText(boringSSL: prefix + "CERTIFICATE_VERIFY_FAILED])") == nil)
    }

    private struct ChannelErrorLike: Error, CustomStringConvertible {
        var description: String { "other" }
    }
}
