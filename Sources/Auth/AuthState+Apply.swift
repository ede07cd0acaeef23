import MVCC
import Proto

extension AuthState {
    /// Applies `request` as entry `index` of the log; throws etcd's error
    /// (and changes nothing) when it fails. Permission to run it is checked
    /// before (`AuthSnapshot.authorize`).
    public mutating func apply(_ request: AuthRequest, index: UInt64) throws(AuthFailure) -> AuthApplied {
        switch request {
        case .enable: return try enable()
        case .disable: return disable()
        case .status: return AuthApplied(.status(enabled: enabled, revision: revision))
        case .authenticate(let name, let prefix): return try authenticate(name: name, prefix: prefix, index: index)
        case .userAdd(let r): return try userAdd(r)
        case .userDelete(let name): return try userDelete(name)
        case .userChangePassword(let name, let hashed): return try userChangePassword(name, hashed)
        case .userGrantRole(let user, let role): return try userGrantRole(user, role)
        case .userGet(let name):
            guard let user = user(name) else { throw .userNotFound }
            return AuthApplied(.userRoles(user.roles))
        case .userList: return AuthApplied(.users(userNames))
        case .userRevokeRole(let name, let role): return try userRevokeRole(name, role)
        case .roleAdd(let name): return try roleAdd(name)
        case .roleGet(let name):
            guard let role = role(name) else { throw .roleNotFound }
            return AuthApplied(.permissions(role.keyPermission))
        case .roleList: return AuthApplied(.roles(roleNames))
        case .roleDelete(let name): return try roleDelete(name)
        case .roleGrantPermission(let name, let perm): return try roleGrantPermission(name, perm)
        case .roleRevokePermission(let name, let key, let rangeEnd): return try roleRevokePermission(name, key, rangeEnd)
        }
    }

    private mutating func enable() throws(AuthFailure) -> AuthApplied {
        if enabled { return AuthApplied() }
        guard let root = user(Self.rootUser) else { throw .rootUserNotExist }
        guard Self.hasRootRole(root) else { throw .rootRoleNotExist }
        enabled = true
        var applied = AuthApplied(.done, [.enabled(true)])
        applied.enabledChanged = true
        return applied
    }

    private mutating func disable() -> AuthApplied {
        if !enabled { return AuthApplied() }
        enabled = false
        var applied = AuthApplied(.done, [.enabled(false), commitRevision()])
        applied.enabledChanged = true
        return applied
    }

    /// The password was verified by the proposer against the revision it
    /// saw; here only the user's existence is rechecked, as etcd's Authenticate.
    private func authenticate(name: String, prefix: String, index: UInt64) throws(AuthFailure) -> AuthApplied {
        guard enabled else { throw .authNotEnabled }
        guard let user = user(name), user.options?.noPassword != true else { throw .authFailed }
        let token = prefix.isEmpty ? "" : "\(prefix).\(index)"
        return AuthApplied(.authenticated(user: name, revision: revision, simpleToken: token))
    }

    private mutating func userAdd(_ r: Etcdserverpb.AuthUserAddRequest) throws(AuthFailure) -> AuthApplied {
        if r.name.isEmpty { throw .userEmpty }
        if user(r.name) != nil { throw .userAlreadyExist }
        var user = Authpb.User()
        user.name = Array(r.name.utf8)
        user.options = r.options ?? Authpb.UserAddOptions()
        if user.options?.noPassword != true { user.password = try decodeHashedPassword(r.hashedPassword) }
        users[user.name] = user
        return AuthApplied(.done, [.user(user), commitRevision()])
    }

    private mutating func userDelete(_ name: String) throws(AuthFailure) -> AuthApplied {
        if enabled && Self.same(name, Self.rootUser) { throw .invalidAuthMgmt }
        let key = Array(name.utf8)
        guard users[key] != nil else { throw .userNotFound }
        users[key] = nil
        return AuthApplied(.done, [AuthRecord(bucket: .authUsers, key: key, value: nil), commitRevision()],
                           invalidatedUser: name)
    }

    private mutating func userChangePassword(_ name: String, _ hashed: String) throws(AuthFailure) -> AuthApplied {
        guard var user = user(name) else { throw .userNotFound }
        if user.options?.noPassword == true {
            user.password = []
        } else {
            // etcd 3.5.1 answers a hash that is not base64 with this (odd) error.
            do { user.password = try decodeHashedPassword(hashed) } catch { throw .noPasswordUser }
        }
        users[user.name] = user
        return AuthApplied(.done, [.user(user), commitRevision()], invalidatedUser: name)
    }

    private mutating func userGrantRole(_ name: String, _ role: String) throws(AuthFailure) -> AuthApplied {
        guard var user = user(name) else { throw .userNotFound }
        if !Self.same(role, Self.rootRole) && self.role(role) == nil { throw .roleNotFound }
        // etcd binary-searches the sorted roles; a sorted, unique list makes that "contains".
        if user.roles.contains(where: { Self.same($0, role) }) { return AuthApplied() }
        user.roles.append(role)
        user.roles.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        users[user.name] = user
        return AuthApplied(.done, [.user(user), commitRevision()])
    }

    private mutating func userRevokeRole(_ name: String, _ role: String) throws(AuthFailure) -> AuthApplied {
        if enabled && Self.same(name, Self.rootUser) && Self.same(role, Self.rootRole) { throw .invalidAuthMgmt }
        guard var user = user(name) else { throw .userNotFound }
        let before = user.roles.count
        user.roles.removeAll { Self.same($0, role) }
        if user.roles.count == before { throw .roleNotGranted }
        users[user.name] = user
        return AuthApplied(.done, [.user(user), commitRevision()])
    }

    private mutating func roleAdd(_ name: String) throws(AuthFailure) -> AuthApplied {
        if name.isEmpty { throw .roleEmpty }
        if role(name) != nil { throw .roleAlreadyExist }
        var role = Authpb.Role()
        role.name = Array(name.utf8)
        roles[role.name] = role
        return AuthApplied(.done, [.role(role), commitRevision()])
    }

    private mutating func roleDelete(_ name: String) throws(AuthFailure) -> AuthApplied {
        if enabled && Self.same(name, Self.rootRole) { throw .invalidAuthMgmt }
        let key = Array(name.utf8)
        guard roles[key] != nil else { throw .roleNotFound }
        roles[key] = nil
        var records = [AuthRecord(bucket: .authRoles, key: key, value: nil)]
        for userKey in users.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard var user = users[userKey], user.roles.contains(where: { Self.same($0, name) }) else { continue }
            user.roles.removeAll { Self.same($0, name) }
            users[userKey] = user
            records.append(.user(user))
        }
        records.append(commitRevision())
        return AuthApplied(.done, records)
    }

    /// etcd 3.5.1: the first permission whose key is ≥ the new one (binary
    /// search) is updated in place when key and range end both match;
    /// otherwise the permission is appended and the list re-sorted by key
    /// with Go's unstable sort. A request without a permission is refused
    /// before the role is looked up, as etcd 3.5.1 does.
    private mutating func roleGrantPermission(_ name: String, _ perm: Authpb.Permission?) throws(AuthFailure) -> AuthApplied {
        guard let perm else { throw .permissionNotGiven }
        guard var role = role(name) else { throw .roleNotFound }
        var perms = role.keyPermission
        let idx = firstIndex(in: perms) { !$0.key.lexicographicallyPrecedes(perm.key) }
        if idx < perms.count && perms[idx].key == perm.key && perms[idx].rangeEnd == perm.rangeEnd {
            perms[idx].permType = perm.permType
        } else {
            var added = Authpb.Permission()
            added.key = perm.key
            added.rangeEnd = perm.rangeEnd
            added.permType = perm.permType
            perms.append(added)
            perms = GoSort.sorted(perms) { $0.key.lexicographicallyPrecedes($1.key) }
        }
        role.keyPermission = perms
        roles[role.name] = role
        return AuthApplied(.done, [.role(role), commitRevision()])
    }

    private mutating func roleRevokePermission(_ name: String, _ key: [UInt8], _ rangeEnd: [UInt8]) throws(AuthFailure) -> AuthApplied {
        guard var role = role(name) else { throw .roleNotFound }
        let before = role.keyPermission.count
        role.keyPermission.removeAll { $0.key == key && $0.rangeEnd == rangeEnd }
        if role.keyPermission.count == before { throw .permissionNotGranted }
        roles[role.name] = role
        return AuthApplied(.done, [.role(role), commitRevision()])
    }

    /// Go's sort.Search: the smallest index in 0..<count for which `pred`
    /// holds, assuming it is false then true; `count` if none.
    private func firstIndex(in perms: [Authpb.Permission], where pred: (Authpb.Permission) -> Bool) -> Int {
        var lo = 0, hi = perms.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if !pred(perms[mid]) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
