import Foundation

extension RemoteCertificatePolicy.Resolver {
    /// getaddrinfo / getnameinfo: blocking, run off the event loop.
    static let system = RemoteCertificatePolicy.Resolver(
        addresses: { name in
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return [] }
            defer { freeaddrinfo(first) }
            var out: [String] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let text = numericHost(entry.pointee.ai_addr, entry.pointee.ai_addrlen) { out.append(text) }
                cursor = entry.pointee.ai_next
            }
            return out
        },
        names: { ip in
            var storage = sockaddr_storage()
            var length: socklen_t
            if let v4 = IPAddressText.parse(ip), v4.count == 4 {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: v4) }
                withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin) { dst.copyBytes(from: $0) } }
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
            } else if let v6 = IPAddressText.parse(ip) {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: v6) }
                withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin6) { dst.copyBytes(from: $0) } }
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            } else {
                return []
            }
            var host = [CChar](repeating: 0, count: 1025)
            let rc = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
                }
            }
            return rc == 0 ? [String(cString: host)] : []
        })

    private static func numericHost(_ addr: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String? {
        guard let addr else { return nil }
        var host = [CChar](repeating: 0, count: 1025)
        guard getnameinfo(addr, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(cString: host)
    }
}
