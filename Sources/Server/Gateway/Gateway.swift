import GRPCWire
import Proto

/// etcd's gRPC gateway: the v3 API as JSON over HTTP/1.1 on the client port
/// (`POST /v3/kv/range` with a JSON RangeRequest, ...). Each request becomes
/// a call of the handler registered on the gRPC router — JSON → message →
/// protobuf bytes → handler → bytes → message → JSON — so no service logic
/// lives here. Streaming methods answer with newline-separated
/// `{"result":...}` objects over chunked encoding.
struct Gateway: Sendable {
    let router: GRPCRouter
    /// Largest request message passed to a handler, as gRPC's receive limit
    /// (etcd: --max-request-bytes + 512 KiB); larger ones get grpc-go's error.
    let maxMessageBytes: Int

    /// Whether `path` is the gateway's: `/v3/...`, and `/v3beta/...` which etcd 3.5 still rewrites to `/v3/`.
    static func serves(_ path: String) -> Bool {
        path.hasPrefix("/v3/") || path.hasPrefix("/v3beta/")
    }

    /// etcd's answer to a `/v3/` request (after the `/v3beta/` rewrite) whose
    /// HTTP client showed a certificate with a Common Name while auth is on:
    /// the gateway calls gRPC with its own certificate, so that CN would be
    /// silently ignored, and etcd refuses instead (HTTP 400). `identity` is
    /// the HTTP connection's; TLS announces a CN only under `--client-cert-auth`.
    static func commonNameRefusal(_ request: HTTP1Request, authEnabled: Bool) -> HTTP1Response? {
        guard authEnabled, let cn = request.identity.verifiedClientCertCommonName, !cn.isEmpty,
              request.path.hasPrefix("/v3/") || request.path.hasPrefix("/v3beta/") else { return nil }
        var response = HTTP1Response(
            status: 400, contentType: "text/plain; charset=utf-8",
            text: "CommonName of client sending a request against gateway will be ignored and not used as expected\n")
        response.headers = [("X-Content-Type-Options", "nosniff")]
        return response
    }

    /// `identity`: who the call runs as (on a TLS listener with
    /// `--client-cert-auth`, the CN of the server's own client certificate).
    func handle(_ request: HTTP1Request, identity: GRPCConnectionIdentity = GRPCConnectionIdentity()) async -> HTTP1Response {
        let path = request.path.hasPrefix("/v3beta/") ? "/v3/" + request.path.dropFirst("/v3beta/".count) : request.path
        guard let route = GatewayRoutes.table[path] else {
            return GatewayResponses.text(404, "Not Found\n")
        }
        if request.method == "OPTIONS" {
            // etcd's CORS wrapper answers preflight requests itself.
            var response = HTTP1Response(status: 200, contentType: "text/plain; charset=utf-8", body: [])
            response.headers = GatewayResponses.corsHeaders
            return response
        }
        guard request.method == "POST" else {
            return GatewayResponses.text(405, "Method Not Allowed\n")
        }
        guard let handler = router.handler(for: route.grpcPath) else {
            // grpc-go's answer for a method the server does not register.
            let parts = route.grpcPath.split(separator: "/")
            return GatewayResponses.error(GRPCStatus(.unimplemented, "unknown method \(parts.last ?? "") for service \(parts.first ?? "")"))
        }
        if let size = request.oversizedBodyBytes {
            // Too large to keep: answered as grpc-go answers the message
            // (etcd's size is the protobuf's, ours the JSON body's).
            return GatewayResponses.error(GRPCStatus(
                .resourceExhausted, "grpc: received message larger than max (\(size) vs. \(maxMessageBytes))"))
        }
        let context = GRPCRequestContext(headers: Self.metadata(request), path: route.grpcPath, identity: identity)
        switch handler {
        case .unary(let call):
            switch requestMessage(route, request.body) {
            case .failure(let status): return GatewayResponses.error(status)
            case .success(let message): return await unary(call, message, route, context)
            }
        case .serverStreaming(let call):
            switch requestMessage(route, request.body) {
            case .failure(let status): return GatewayResponses.error(status)
            case .success(let message): return await stream(route) { writer in try await call(message, context, writer) }
            }
        case .bidi(let call):
            // grpc-gateway decodes a bidi body (a sequence of JSON objects) inside the
            // call, so a bad one ends it with UNKNOWN (HTTP 500).
            let messages: [[UInt8]]
            do {
                messages = try JSONValue.parseSequence(request.body).map { (json: JSONValue) throws(ProtoJSONError) -> [UInt8] in
                    try route.encodeRequest(json)
                }
            } catch {
                return GatewayResponses.error(GRPCStatus(.unknown, error.message))
            }
            if let tooLarge = messages.lazy.compactMap(tooLarge).first { return GatewayResponses.error(tooLarge) }
            let keepOpen = route.keepsRequestsOpen
            return await stream(route) { writer in
                let (requests, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
                for message in messages { continuation.yield(message) }
                if !keepOpen { continuation.finish() }
                defer { continuation.finish() }
                try await call(GRPCRequestStream(requests), writer, context)
            }
        }
    }

    /// The body's JSON request as protobuf bytes, or why not (bad JSON: INVALID_ARGUMENT, as grpc-gateway).
    private func requestMessage(_ route: GatewayRoute, _ body: [UInt8]) -> Result<[UInt8], GRPCStatus> {
        let message: [UInt8]
        do {
            message = try route.encodeRequest(try JSONValue.parseFirst(body))
        } catch {
            // etcd decodes a txn nested up to Go's JSON limit and then refuses it by its op budget.
            if error.nestedBeyondParser && route.grpcPath == Etcdserverpb.KVService.txn.path {
                return .failure(grpcStatus(for: ServerError.tooManyOps))
            }
            return .failure(GRPCStatus(.invalidArgument, error.message))
        }
        if let tooLarge = tooLarge(message) { return .failure(tooLarge) }
        return .success(message)
    }

    private func unary(_ call: GRPCRouter.Unary, _ message: [UInt8], _ route: GatewayRoute,
                       _ context: GRPCRequestContext) async -> HTTP1Response {
        do {
            let response = try await call(message, context)
            var answer = HTTP1Response(status: 200, body: try route.responseJSON(response))
            answer.headers = GatewayResponses.successHeaders
            return answer
        } catch {
            return GatewayResponses.error(grpcStatus(for: error))
        }
    }

    /// Runs a streaming call; waits for its first message so an immediate error
    /// gets its own HTTP status (as grpc-gateway writes the header lazily).
    private func stream(_ route: GatewayRoute,
                        _ body: @escaping @Sendable (GRPCResponseWriter) async throws -> Void) async -> HTTP1Response {
        let pipe = GatewayPipe()
        let call = Task {
            do {
                try await body(GRPCResponseWriter(send: { try await pipe.send($0) }))
                pipe.finish(.end)
            } catch {
                pipe.finish(.failed(grpcStatus(for: error)))
            }
        }
        let first = await pipe.next()
        let chunk: [UInt8]
        switch first {
        case .failed(let status):
            call.cancel()
            var response = HTTP1Response(status: GatewayResponses.httpStatus(status.code),
                                         body: GatewayResponses.streamErrorChunk(status))
            response.headers = GatewayResponses.corsHeaders
            return response
        case .end:
            call.cancel()
            var response = HTTP1Response(status: 200, body: [])
            response.headers = GatewayResponses.successHeaders
            return response
        case .message(let bytes):
            chunk = Self.resultChunk(route, bytes)
        }
        return HTTP1Response(status: 200, headers: GatewayResponses.successHeaders) { out in
            defer {
                pipe.close()
                call.cancel()
            }
            try await out.write(chunk)
            while true {
                switch await pipe.next() {
                case .message(let bytes): try await out.write(Self.resultChunk(route, bytes))
                case .end: return
                case .failed(let status):
                    try await out.write(GatewayResponses.streamErrorChunk(status))
                    return
                }
            }
        }
    }

    /// grpc-go's answer to a request message over the receive limit.
    private func tooLarge(_ message: [UInt8]) -> GRPCStatus? {
        guard message.count > maxMessageBytes else { return nil }
        return GRPCStatus(.resourceExhausted, "grpc: received message larger than max (\(message.count) vs. \(maxMessageBytes))")
    }

    private static func resultChunk(_ route: GatewayRoute, _ bytes: [UInt8]) -> [UInt8] {
        do {
            return GatewayResponses.resultChunk(try route.responseJSON(bytes))
        } catch {
            return GatewayResponses.streamErrorChunk(GRPCStatus(.internal, "\(error)"))
        }
    }

    /// gRPC metadata from HTTP headers, as grpc-gateway forwards them:
    /// Authorization as `authorization`, `Grpc-Metadata-X` as `x`.
    static func metadata(_ request: HTTP1Request) -> [(String, String)] {
        var out: [(String, String)] = []
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if lower == "authorization" {
                out.append((lower, value))
            } else if lower == "accept" {
                // grpc-gateway's name for a permanent HTTP header; etcd's auth
                // then ignores the gateway's certificate CN (`AuthAccess`).
                out.append(("grpcgateway-accept", value))
            } else if lower.hasPrefix("grpc-metadata-") {
                out.append((String(lower.dropFirst("grpc-metadata-".count)), value))
            }
        }
        return out
    }
}
