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
    /// A unary handler whose errors are reported as `recipeStatus` does; the
    /// body gets the recipes bound to the call's context.
    func recipeUnary<Request, Response>(_ method: ProtoMethod<Request, Response>, _ make: RecipeMaker,
                                        _ body: @escaping @Sendable (Request, Recipes) async throws -> Response) {
        unary(method) { request, context in
            do { return try await body(request, make.recipes(context)) } catch { throw recipeStatus(error) }
        }
    }
}

/// What the Lock and Election services hold: the KV and Lease services the
/// recipes call in-process (with their access checks) and the watchable store.
struct RecipeMaker: Sendable {
    let kv: KVService
    let lease: LeaseService
    let watch: WatchBackend

    func recipes(_ context: GRPCRequestContext) -> Recipes {
        Recipes(kv: kv, lease: lease, watchable: watch, context: context)
    }
}

/// v3lockpb.Lock: a distributed mutex held by a lease (`Recipes.lock`).
struct LockService {
    let recipes: RecipeMaker

    func register(on router: GRPCRouter) {
        let recipes = self.recipes
        router.recipeUnary(V3lockpb.LockService.lock, recipes) { request, recipes in
            let (header, key) = try await recipes.lock(name: request.name, lease: request.lease)
            var out = V3lockpb.LockResponse()
            out.header = header
            out.key = key
            return out
        }
        router.recipeUnary(V3lockpb.LockService.unlock, recipes) { request, recipes in
            var out = V3lockpb.UnlockResponse()
            out.header = try await recipes.unlock(key: request.key)
            return out
        }
    }
}

/// v3electionpb.Election: campaign, proclaim, leader, observe, resign.
struct ElectionService {
    let recipes: RecipeMaker

    func register(on router: GRPCRouter) {
        let recipes = self.recipes
        typealias E = V3electionpb.ElectionService
        router.recipeUnary(E.campaign, recipes) { request, recipes in
            try await recipes.campaign(name: request.name, lease: request.lease, value: request.value)
        }
        router.recipeUnary(E.proclaim, recipes) { request, recipes in
            guard let leader = request.leader else { throw Recipes.missingLeaderKey }
            var out = V3electionpb.ProclaimResponse()
            out.header = try await recipes.proclaim(leader, value: request.value)
            return out
        }
        router.recipeUnary(E.resign, recipes) { request, recipes in
            guard let leader = request.leader else { throw Recipes.missingLeaderKey }
            var out = V3electionpb.ResignResponse()
            out.header = try await recipes.resign(leader)
            return out
        }
        router.recipeUnary(E.leader, recipes) { request, recipes in try await recipes.leader(name: request.name) }
        router.serverStreaming(E.observe.path) { bytes, context, writer in
            let request = try decodeRequest(V3electionpb.LeaderRequest.self, bytes)
            do {
                try await recipes.recipes(context).observe(name: request.name) { try await writer.send($0.serializedBytes()) }
            } catch {
                throw recipeStatus(error)
            }
        }
    }
}
