import Logging
import NIOCore
import NIOHTTP1

/// First handler of every accepted connection: looks at the first bytes and
/// installs either the HTTP/2 (gRPC) handler, when they are the HTTP/2 client
/// preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", or an HTTP/1.1 pipeline.
/// Then it removes itself and replays what it buffered.
///
/// A `GRPCConnectionIdentified` event seen before the first bytes (fired
/// by the TLS layer underneath) is handed to the HTTP/2 or HTTP/1.1
/// handler, so calls and requests learn the verified client certificate. A protocol the port does not
/// serve (`serveGRPC`/`serveHTTP1` false) closes the connection, and so does
/// `prefaceTimeout` passing before the protocol is known.
final class ProtocolDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Verdict: Equatable { case http2, http1, needMore }

    /// Pure check of the bytes seen so far.
    static func classify(_ bytes: some Collection<UInt8>) -> Verdict {
        for (i, byte) in zip(preface.indices, bytes) where byte != preface[i] { return .http1 }
        return bytes.count >= preface.count ? .http2 : .needMore
    }

    private let makeHTTP2: ((GRPCConnectionIdentity) -> any ChannelHandler)?
    private let http1: HTTP1Service?
    private let serveHTTP1: Bool
    private let maxHTTP1BodyBytes: Int
    private let bodyBudget: HTTP1BodyBudget
    private let prefaceTimeout: TimeAmount?
    private var prefaceDeadline: Scheduled<Void>?
    private var buffered: ByteBuffer?
    private var identity = GRPCConnectionIdentity()

    /// `makeHTTP2` nil: HTTP/2 is not served here; `serveHTTP1` false: nor is HTTP/1.1.
    init(makeHTTP2: ((GRPCConnectionIdentity) -> any ChannelHandler)?, http1: HTTP1Service?,
         serveHTTP1: Bool = true, maxHTTP1BodyBytes: Int, bodyBudget: HTTP1BodyBudget,
         prefaceTimeout: TimeAmount? = nil) {
        self.makeHTTP2 = makeHTTP2
        self.http1 = http1
        self.serveHTTP1 = serveHTTP1
        self.maxHTTP1BodyBytes = maxHTTP1BodyBytes
        self.bodyBudget = bodyBudget
        self.prefaceTimeout = prefaceTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let prefaceTimeout else { return }
        let channel = context.channel
        prefaceDeadline = context.eventLoop.scheduleTask(in: prefaceTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        prefaceDeadline?.cancel()
        prefaceDeadline = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identified = event as? GRPCConnectionIdentified { identity = identified.identity }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        let verdict = buffered!.withUnsafeReadableBytes { Self.classify($0) }
        do {
            switch verdict {
            case .needMore:
                if buffered!.readableBytes > 64 { context.close(promise: nil) }
                return
            case .http2:
                guard let makeHTTP2 else { context.close(promise: nil); return }
                try context.pipeline.syncOperations.addHandler(makeHTTP2(identity), position: .after(self))
            case .http1:
                guard serveHTTP1 else { context.close(promise: nil); return }
                // Go's header limit and error answers instead of NIO's (80 KiB,
                // an empty 400). On the event loop this configures at once; only
                // the future-returning variant takes decoder limits.
                let channel = context.channel
                context.pipeline.configureHTTPServerPipeline(
                    position: .last, withPipeliningAssistance: true, withErrorHandling: false,  // the detector is last
                    withDecoderLimitConfiguration: HTTP1ParseErrorResponder.decoderLimits
                ).whenFailure { _ in channel.close(promise: nil) }
                // The HTTP/1 handlers go last, after the codec handlers just added.
                try context.pipeline.syncOperations.addHandler(HTTP1ParseErrorResponder())
                try context.pipeline.syncOperations.addHandler(HTTP1RequestHandler(handler: http1, maxBodyBytes: maxHTTP1BodyBytes, budget: bodyBudget,
                                                                                      identity: identity))
            }
        } catch {
            context.close(promise: nil)
            return
        }
        let bytes = buffered!
        buffered = nil
        context.fireChannelRead(wrapInboundOut(bytes))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
