import GRPCWire
import Proto

/// etcd serves Lock and Election through an in-process clientv3, so every
/// error reaches the caller as code Unknown with the message kept.
func recipeStatus(_ error: Error) -> GRPCStatus {
    let status = grpcStatus(for: error)
    switch status.code {
    case .cancelled, .deadlineExceeded: return status
    default: return GRPCStatus(.unknown, status.message)
    }
}

extension GRPCRouter {
    /// A unary handler whose errors are reported as `recipeStatus` does.
    func recipeUnary<Request, Response>(_ method: ProtoMethod<Request, Response>,
                                        _ body: @escaping @Sendable (Request) async throws -> Response) {
        unary(method) { request, _ in
            do { return try await body(request) } catch { throw recipeStatus(error) }
        }
    }
}

/// v3lockpb.Lock: a distributed mutex held by a lease (`Recipes.lock`).
struct LockService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let recipes = Recipes(server: server)
        router.recipeUnary(V3lockpb.LockService.lock) { request in
            let (header, key) = try await recipes.lock(name: request.name, lease: request.lease)
            var out = V3lockpb.LockResponse()
            out.header = header
            out.key = key
            return out
        }
        router.recipeUnary(V3lockpb.LockService.unlock) { request in
            var out = V3lockpb.UnlockResponse()
            out.header = try await recipes.unlock(key: request.key)
            return out
        }
    }
}

/// v3electionpb.Election: campaign, proclaim, leader, observe, resign.
struct ElectionService {
    let server: EtcdServer

    func register(on router: GRPCRouter) {
        let recipes = Recipes(server: server)
        typealias E = V3electionpb.ElectionService
        router.recipeUnary(E.campaign) { request in
            try await recipes.campaign(name: request.name, lease: request.lease, value: request.value)
        }
        router.recipeUnary(E.proclaim) { request in
            guard let leader = request.leader else { throw Recipes.missingLeaderKey }
            var out = V3electionpb.ProclaimResponse()
            out.header = try await recipes.proclaim(leader, value: request.value)
            return out
        }
        router.recipeUnary(E.resign) { request in
            guard let leader = request.leader else { throw Recipes.missingLeaderKey }
            var out = V3electionpb.ResignResponse()
            out.header = try await recipes.resign(leader)
            return out
        }
        router.recipeUnary(E.leader) { request in try await recipes.leader(name: request.name) }
        router.serverStreaming(E.observe.path) { bytes, _, writer in
            let request = try decodeRequest(V3electionpb.LeaderRequest.self, bytes)
            do {
                try await recipes.observe(name: request.name) { try await writer.send($0.serializedBytes()) }
            } catch {
                throw recipeStatus(error)
            }
        }
    }
}
