/// Per-method call hooks for metrics (go-grpc-prometheus's `grpc_server_*`
/// counters). Attach one to a registered path with `GRPCRouter.setProbe`;
/// the connection calls it on its event loop, so an implementation must be
/// thread-safe and cheap (atomics, no allocation, no locks held long).
///
/// Per call: `started` once when the route is found; `received` for each
/// request message handed to the handler; `sent` for each response message
/// queued; `handled` exactly once with the final status (including
/// deadline, cancellation by the client, and request errors).
public protocol GRPCMethodProbe: AnyObject, Sendable {
    func started()
    func received()
    func sent()
    /// `startedNanos` is the `NIODeadline.now()` uptime at `started`.
    func handled(_ code: GRPCStatus.Code, startedNanos: UInt64)
}
