// GRPCWire: gRPC over HTTP/2 (nghttp2) on SwiftNIO, carrying raw message bytes.
//
// Use:
//   let router = GRPCRouter()
//   router.unary("/etcdserverpb.Maintenance/Status") { request, context in ... return responseBytes }
//   router.serverStreaming(path) { request, context, writer in try await writer.send(bytes) }
//   router.bidi(path) { requests, writer, context in for try await m in requests { ... } }
//   let server = GRPCServer(config: config, router: router, http1: { method, path, query in ... },
//                           group: group, logger: logger)
//   let port = try await server.start(); ...; try await server.shutdown()
//   (`http1Service: { request in ... }` instead sees whole HTTP/1.1 requests, POST bodies
//   included, and may answer with a chunked stream: HTTP1Response(status:stream:).)
//   A handler can also be called outside HTTP/2: GRPCRequestStream(asyncStream) and
//   GRPCResponseWriter(send:) stand in for a call's streams (JSON gateways do this).
//
// Throw a GRPCStatus from a handler to end the call with that code/message;
// any other error becomes UNKNOWN with its description. Handlers run on the
// connection's event loop by default (GRPCServerConfig.runHandlersOnEventLoop):
// they must not block; await instead.
//
// TLS is not GRPCWire's business: GRPCServerConfig.connectionInitializer adds
// whatever sits under HTTP (the server's TLS layer) to each accepted connection,
// and a GRPCConnectionIdentified event from it carries the verified client
// certificate's CN into every call's GRPCRequestContext.verifiedClientCertCommonName.
// serveGRPC / serveHTTP1 restrict a port to one protocol (--listen-client-http-urls).
//
// Layout (one room per concern):
//   ProtocolDetector        HTTP/2 preface → H2ConnectionHandler, else NIOHTTP1 → HTTP1RequestHandler
//   GRPCConnectionIdentity  who the connection belongs to (set underneath, e.g. by TLS), and the hook type
//   HTTP1RequestHandler     plain HTTP/1.1: bounded body, whole or chunked (streamed) answers
//   H2ConnectionHandler     nghttp2 session per connection: bytes in/out, output batching, backpressure,
//                           keepalive, GOAWAY (+Callbacks: the C callbacks; +Streams: call lifecycle;
//                           +FlowControl: when request bytes are given back as window)
//   GRPCStreamStateMachine  pure per-call logic (headers, framing, trailers), tested without sockets
//   ServerStream            one call's I/O state (outbound queue, waiters) on the connection's loop
//   CShims/CNGHTTP2         thin C shim: version-independent mem_recv/mem_send/submit and session limits
