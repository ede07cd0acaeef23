import Foundation

/// A throwaway certificate authority made at test time with Debian's
/// `openssl` CLI (`openssl ca`, so it can also back-date certificates and
/// revoke them). Nothing is committed: every certificate lives for the test.
final class TestPKI: @unchecked Sendable {
    struct Pair {
        var cert: String
        var key: String
    }

    let dir: String
    let name: String
    var caCert: String { dir + "/ca.crt" }
    var caKey: String { dir + "/ca.key" }
    private var config: String { dir + "/ca.cnf" }
    private let lock = NSLock()

    /// A new CA whose subject is `CN=<name>` (RSA keys, like kubeadm's).
    init(name: String = "etcd-ca", dir: String? = nil) throws {
        self.name = name
        self.dir = dir ?? NSTemporaryDirectory() + "swift-etcd-pki-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.dir + "/db", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: self.dir + "/db/index.txt", contents: Data())
        try "1000\n".write(toFile: self.dir + "/db/serial", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: self.dir + "/db/crlnumber", atomically: true, encoding: .utf8)
        try """
            [ca]
            default_ca = CA_default
            [CA_default]
            dir = \(self.dir)
            database = $dir/db/index.txt
            serial = $dir/db/serial
            crlnumber = $dir/db/crlnumber
            new_certs_dir = $dir/db
            certificate = $dir/ca.crt
            private_key = $dir/ca.key
            default_md = sha256
            default_crl_days = 2
            policy = policy_any
            unique_subject = no
            copy_extensions = copy
            [policy_any]
            commonName = optional
            organizationName = optional
            [leaf]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth,clientAuth
            [client]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = clientAuth
            [server]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature,keyEncipherment
            extendedKeyUsage = serverAuth

            """.write(toFile: config, atomically: true, encoding: .utf8)
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", caCert,
                     "-days", "2", "-subj", "/CN=\(name)"])
    }

    /// Issues a certificate for `cn` with IP and DNS SANs. `clientOnly`
    /// gives it only clientAuth (kubeadm's client certificates), `serverOnly`
    /// only serverAuth (refused as a client certificate); `expired`
    /// back-dates it to 2020. An empty `cn` leaves the subject without a
    /// CN (`O=<organization or anonymous>`).
    @discardableResult
    func issue(_ file: String, cn: String, organization: String? = nil, ips: [String] = [], dns: [String] = [],
               clientOnly: Bool = false, serverOnly: Bool = false, expired: Bool = false,
               into directory: String? = nil) throws -> Pair {
        lock.lock()
        defer { lock.unlock() }
        let out = directory ?? dir
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let pair = Pair(cert: "\(out)/\(file).crt", key: "\(out)/\(file).key")
        let csr = "\(dir)/\(file)-\(UUID().uuidString).csr"
        var subject = cn.isEmpty ? "" : "/CN=\(cn)"
        if let organization { subject = "/O=\(organization)" + subject } else if cn.isEmpty { subject = "/O=anonymous" }
        var req = ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", pair.key, "-out", csr, "-subj", subject]
        let sans = ips.map { "IP:\($0)" } + dns.map { "DNS:\($0)" }
        if !sans.isEmpty { req += ["-addext", "subjectAltName=" + sans.joined(separator: ",")] }
        try openssl(req)
        var sign = ["ca", "-batch", "-config", config, "-extensions", clientOnly ? "client" : serverOnly ? "server" : "leaf", "-in", csr,
                    "-out", pair.cert, "-notext"]
        sign += expired ? ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] : ["-days", "2"]
        try openssl(sign)
        return pair
    }

    /// Revokes `cert` and writes a fresh CRL (PEM) to `crlPath`.
    func revoke(_ cert: String, crlPath: String) throws {
        lock.lock()
        defer { lock.unlock() }
        try openssl(["ca", "-config", config, "-revoke", cert])
        try openssl(["ca", "-config", config, "-gencrl", "-out", crlPath])
    }

    /// An empty CRL of this CA.
    func emptyCRL(_ crlPath: String) throws {
        try openssl(["ca", "-config", config, "-gencrl", "-out", crlPath])
    }

    /// The serial of a certificate as `openssl x509 -serial` prints it (hex).
    static func serial(_ cert: String) throws -> String {
        let r = try ProcessRunner.run("openssl", ["x509", "-in", cert, "-noout", "-serial"])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    private func openssl(_ args: [String]) throws {
        let r = try ProcessRunner.run("openssl", args, timeoutSeconds: 60)
        guard r.exitCode == 0 else { throw TestSetupError("openssl \(args.prefix(2).joined(separator: " ")) failed: \(r.stderr)") }
    }
}
