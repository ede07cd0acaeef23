import NIOCore

/// Listener and limits. Defaults follow etcd 3.5's flags.
public struct GRPCServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port; `GRPCServer.start()` returns the bound one.
    public var port: Int = 2379
    /// etcd `--max-request-bytes` (1.5 MiB). The server layer answers larger
    /// requests with "etcdserver: request is too large"; GRPCWire only enforces `maxReceiveBytes`.
    public var maxRequestBytes: Int = 1536 * 1024
    /// Largest request message accepted (etcd: maxRequestBytes + 512 KiB);
    /// larger ones end the call with RESOURCE_EXHAUSTED.
    public var maxReceiveBytes: Int = 1536 * 1024 + 512 * 1024
    /// Open calls one connection may hold whatever SETTINGS says (a memory bound
    /// while `maxConcurrentStreams` is etcd's unbounded default); more are reset.
    public var maxStreamsPerConnection: Int = 65536
    /// Largest plain HTTP/1.1 request body accepted (JSON gateways carry base64
    /// bytes, 4/3 of the message); larger ones are answered 413 and the connection closed.
    public var maxHTTP1BodyBytes: Int = 2 * (1536 * 1024 + 512 * 1024)
    /// Bytes of HTTP/1.1 bodies all connections may buffer past each body's
    /// free 64 KiB (see `HTTP1BodyBudget`); nil: the larger of 64 MiB and four
    /// bodies of `maxHTTP1BodyBytes`.
    public var http1BodyBudget: HTTP1BodyBudget?
    /// Largest response message sent; larger ones end the call with RESOURCE_EXHAUSTED.
    public var maxSendBytes: Int = Int(Int32.max)
    /// SETTINGS_MAX_CONCURRENT_STREAMS (etcd `--max-concurrent-streams`, default unbounded).
    public var maxConcurrentStreams: UInt32 = UInt32.max
    /// etcd `--grpc-keepalive-min-time`: pings closer than this are strikes; 3 strikes → GOAWAY ENHANCE_YOUR_CALM.
    public var keepaliveMinTime: TimeAmount = .seconds(5)
    /// etcd `--grpc-keepalive-interval`: ping a client silent this long.
    public var keepaliveInterval: TimeAmount = .hours(2)
    /// etcd `--grpc-keepalive-timeout`: close the connection if the ping is not answered in time.
    public var keepaliveTimeout: TimeAmount = .seconds(20)
    /// Pings without active streams are also strikes unless this is true (grpc-go PermitWithoutStream; etcd sets false).
    public var keepalivePermitWithoutStream: Bool = false
    /// SETTINGS_INITIAL_WINDOW_SIZE advertised for each stream, bytes.
    public var initialStreamWindowBytes: UInt32 = 1 << 20
    /// Connection-level receive window, bytes.
    public var connectionWindowBytes: Int32 = 4 << 20
    /// SETTINGS_MAX_HEADER_LIST_SIZE and the bound on one request's header block, bytes.
    public var maxHeaderListBytes: UInt32 = 64 * 1024
    /// Header bytes all open streams of one connection may hold; a stream
    /// whose headers would pass it is reset. HPACK lets a client repeat a
    /// 4 KB table entry for one byte, so without it 65,536 open streams could
    /// make us hold 64 KB of decoded metadata each from a few MB sent.
    public var maxConnectionHeaderBytes: Int = 64 << 20
    /// Request bytes one connection may hold before it stops granting flow-control window.
    public var maxConnectionBufferedBytes: Int = 32 << 20
    /// Response bytes queued per stream before `GRPCResponseWriter.send` suspends.
    public var streamSendHighWaterBytes: Int = 256 * 1024
    /// Response bytes one connection may hold unsent (its peer does not read,
    /// or its window is closed) before it starts no further unary call: calls
    /// whose request arrived wait, in order, until the queue drains.
    public var maxQueuedResponseBytes: Int = 16 << 20
    /// Unsent response bytes of all connections together (see `ByteBudget`):
    /// past it only connections (and streams) with nothing queued start another answer.
    public var responseBudget: ByteBudget = .responses
    /// Request bytes of all connections' running unary calls (see `ByteBudget`):
    /// past it only connections with nothing queued or running start a call.
    public var requestBudget: ByteBudget = .requests
    /// Unary calls one connection may run at once; later ones wait, in order.
    /// With `maxQueuedResponseBytes` this bounds what a connection that never
    /// reads can make us hold to about this many responses.
    public var maxRunningUnaryCalls: Int = 256
    /// Unary methods that may wait on another call of the same client (a lock
    /// held until its owner's Unlock, an election campaign): never counted or
    /// held back, so waiting calls cannot block the one that releases them.
    public var admissionExemptPathPrefixes: [String] = ["/v3lockpb.", "/v3electionpb."]
    /// RST_STREAM token bucket (rapid reset, CVE-2023-44487): burst and refill
    /// per second. Far above what clients cancel when deadlines expire in bulk
    /// (nghttp2's own 1000/33 cut such a client off, watches and all; etcd has
    /// no such limit), far below the floods the attack needs.
    public var resetBurst: UInt64 = 10_000
    public var resetRatePerSecond: UInt64 = 1_000
    /// Outbound SETTINGS/PING ACKs queued before the peer counts as flooding.
    public var maxOutboundAcks: Int = 1000
    /// Longest a read batch's control frames (the PING ACK and WINDOW_UPDATE
    /// grpc-go sends with each request after an answer) wait to leave in the
    /// same write as the answer of a call that batch started and that is
    /// answered later (the callback form: a write waits for its fsync). Saves
    /// a write here and a wake-up of the client per call; bounded so a
    /// keepalive PING never waits behind a slow call. Zero: never held.
    public var controlFrameHold: TimeAmount = .milliseconds(1)
    /// Run handlers on the connection's event loop (no thread hop; handlers must not block)
    /// instead of the global concurrent executor.
    public var runHandlersOnEventLoop: Bool = true
    /// SO_REUSEPORT on the listener (etcd `--socket-reuse-port`): another
    /// socket with the option may bind the same port. SO_REUSEADDR is always
    /// set, as Go sets it on every listener (so etcd's have it whatever
    /// `--socket-reuse-address` says).
    public var reusePort: Bool = false
    /// How long after a call's grpc-timeout the server gives up on it
    /// (DEADLINE_EXCEEDED). Zero ends the call at the client's deadline; an
    /// application whose clients retry a call the server timed out while
    /// their own deadline is alive wants the client to give up first.
    public var deadlineGrace: TimeAmount = .zero
    /// The connection budget this listener draws on; one accepted beyond it
    /// is closed at once. Default: the one every listener of the process
    /// shares (the descriptor limit less a reserve for the member's files).
    public var connectionLimiter: ConnectionLimiter = .processWide
    /// How long a connection may take to show its protocol (the whole HTTP/2
    /// preface, or bytes that are not it) before it is closed; nil: no limit.
    /// A client sending the preface a byte at a time held a descriptor for as
    /// long as it liked (etcd 3.5.1's cmux too). 120 s is grpc-go's default
    /// connection timeout; once the protocol is known no timer runs, so
    /// long-lived streams are untouched.
    public var prefaceTimeout: TimeAmount? = .seconds(120)
    /// How long `shutdown()` waits for in-flight calls before closing connections.
    public var shutdownGracePeriod: TimeAmount = .seconds(10)
    /// During a graceful stop, a connection whose calls have all answered is
    /// closed once its client has neither sent nor taken a byte for this
    /// long, instead of holding the stop for the whole grace period: a client
    /// that never reads cannot take its answers anyway (etcd 3.5 exits at once
    /// with such clients; see `DrainProgress`).
    public var drainStallTimeout: TimeAmount = .seconds(1)
    /// Serve gRPC (HTTP/2) on this port; when false an HTTP/2 preface closes
    /// the connection (etcd's `--listen-client-http-urls` ports).
    public var serveGRPC: Bool = true
    /// Serve HTTP/1.1 on this port; when false an HTTP/1.1 request closes the
    /// connection (etcd's client ports once `--listen-client-http-urls` is set).
    public var serveHTTP1: Bool = true
    /// Adds what sits under HTTP (TLS) to each accepted connection; nil for plain TCP.
    public var connectionInitializer: GRPCConnectionInitializer?
    /// When false, `start()` binds but accepts nothing until `startAccepting()`:
    /// clients' connections wait in the kernel's backlog, as etcd's client
    /// ports do until the member is ready, so a client's balancer keeps
    /// using the members that are ready instead of getting "no leader".
    public var acceptsAtStart: Bool = true

    public init() {}

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
