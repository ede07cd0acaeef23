import Crypto
import Foundation
import SwiftASN1
import X509

/// `--auto-tls` / `--peer-auto-tls`: etcd's self-signed certificate. The
/// pair lives in `<data-dir>/fixtures/client` (or `…/peer`) as `cert.pem`
/// and `key.pem`; an existing pair is reused, as etcd does. The certificate
/// is ECDSA P-521, organisation "etcd", valid `validityYears` × 365 days,
/// for server authentication, with the listen URLs' hosts as SANs.
enum SelfSignedCertificate {
    struct Files: Equatable {
        var certFile: String
        var keyFile: String
    }

    struct GenerationError: Error, CustomStringConvertible {
        let description: String
    }

    static func ensure(directory: String, hosts: [String], validityYears: UInt64, now: Date = Date()) throws -> Files {
        guard validityYears > 0 else {
            throw GenerationError(description: "selfSignedCertValidity is invalid,it should be greater than 0")
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let cert = (directory as NSString).appendingPathComponent("cert.pem")
        let key = (directory as NSString).appendingPathComponent("key.pem")
        if fm.fileExists(atPath: cert) && fm.fileExists(atPath: key) { return Files(certFile: cert, keyFile: key) }

        let (certPEM, keyPEM) = try generate(hosts: hosts, validityYears: validityYears, now: now)
        guard fm.createFile(atPath: cert, contents: Data(certPEM.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw GenerationError(description: "cannot create cert file \(cert)")
        }
        guard fm.createFile(atPath: key, contents: Data(keyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw GenerationError(description: "cannot create key file \(key)")
        }
        return Files(certFile: cert, keyFile: key)
    }

    /// The PEM certificate and PKCS#8 key. `hosts` are `host:port` or bare
    /// hosts; IPs become IP SANs, anything else DNS SANs.
    static func generate(hosts: [String], validityYears: UInt64, now: Date) throws -> (cert: String, key: String) {
        let privateKey = P521.Signing.PrivateKey()
        var names: [GeneralName] = []
        for host in hosts {
            let h = hostPart(host)
            if let ip = IPAddressText.parse(h) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ip[...])))
            } else if !h.isEmpty {
                names.append(.dnsName(h))
            }
        }
        var serial = [UInt8](repeating: 0, count: 16)
        for i in serial.indices { serial[i] = UInt8.random(in: 0...255) }
        serial[0] &= 0x7f  // positive
        let subject = try DistinguishedName { OrganizationName("etcd") }
        let days = Double(min(validityYears, 10_000)) * 365
        let extensions = try Certificate.Extensions {
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.serverAuth])
            Critical(BasicConstraints.notCertificateAuthority)
            if !names.isEmpty { SubjectAlternativeNames(names) }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial[...]),
            publicKey: Certificate.PublicKey(privateKey.publicKey),
            notValidBefore: validFrom(now), notValidAfter: now.addingTimeInterval(days * 86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA512,
            extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(privateKey))
        return (try certificate.serializeAsPEM().pemString, privateKey.pemRepresentation)
    }

    /// A whole second a minute back: X.509 times carry whole seconds, and a
    /// `notBefore` rounded up past "now" made grpcio refuse a fresh auto-TLS
    /// certificate as "not yet valid"; the minute absorbs small clock skew.
    static func validFrom(_ now: Date) -> Date {
        Date(timeIntervalSince1970: (now.timeIntervalSince1970 - 60).rounded(.down))
    }

    /// `host:port`, `[v6]:port` or a bare host → the host.
    static func hostPart(_ s: String) -> String {
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") { return String(s[s.index(after: s.startIndex)..<close]) }
        if s.filter({ $0 == ":" }).count == 1, let colon = s.lastIndex(of: ":") { return String(s[..<colon]) }
        return s
    }
}
