import Crypto
import Foundation
import SwiftASN1
import X509

/// Certificates made in memory for the TLS tests (P-256, valid around now
/// unless told otherwise), written as PEM files into a temporary directory.
struct TLSTestCA {
    let key = P256.Signing.PrivateKey()
    let name: DistinguishedName
    let certificate: Certificate
    let dir: String

    init(commonName: String = "test-ca") throws {
        dir = NSTemporaryDirectory() + "swift-etcd-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        name = try DistinguishedName { CommonName(commonName) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        }
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
    }

    var caFile: String { get throws { try write("ca.crt", certificate.serializeAsPEM().pemString) } }

    /// A leaf for `cn` with the given SANs; returns (cert file, key file, certificate).
    func issue(_ file: String, cn: String, ips: [String] = [], dns: [String] = [], serial: [UInt8]? = nil,
               notAfter: Date = Date().addingTimeInterval(86_400)) throws -> (cert: String, key: String, certificate: Certificate) {
        let leafKey = P256.Signing.PrivateKey()
        var names: [GeneralName] = dns.map { .dnsName($0) }
        for ip in ips {
            var addr = in_addr()
            inet_pton(AF_INET, ip, &addr)
            names.append(.ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: addr) { Array($0) }[...])))
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            if !names.isEmpty { SubjectAlternativeNames(names) }
        }
        let leaf = try Certificate(
            version: .v3, serialNumber: serial.map { Certificate.SerialNumber(bytes: $0[...]) } ?? Certificate.SerialNumber(),
            publicKey: .init(leafKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: notAfter,
            issuer: name, subject: try DistinguishedName { CommonName(cn) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(key))
        let cert = try write("\(file).crt", leaf.serializeAsPEM().pemString)
        let keyPath = try write("\(file).key", leafKey.pemRepresentation)
        return (cert, keyPath, leaf)
    }

    @discardableResult
    func write(_ file: String, _ text: String) throws -> String {
        let path = dir + "/" + file
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}
