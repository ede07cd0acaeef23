/// The answer to a unary call its method's callback form took
/// (`GRPCRouter.Callback`): whoever finishes the work calls `answer`
/// exactly once, from any thread, and the call ends on the connection's
/// loop, as a task's answer would.
///
/// When the call ends before its answer (deadline, reset, connection gone),
/// the connection runs `onCancel` once, on its loop: the work should stop
/// and answer soon (anything: the call is over), which is when the call
/// stops counting as running (`H2ConnectionHandler+Admission`), as a
/// cancelled task's return is.
public final class GRPCUnaryReply: @unchecked Sendable {
    private let connection: H2ConnectionHandler
    private let stream: ServerStream
    /// Set by the callback form before it returns (on the loop); read and
    /// cleared on the loop only.
    public var onCancel: (@Sendable () -> Void)?
    /// Set by a wrapper of the callback form once it took the call (on the
    /// loop); run on the loop with the answer's size (0 for an error), once.
    public var onAnswer: (@Sendable (Int) -> Void)?

    init(connection: H2ConnectionHandler, stream: ServerStream) {
        self.connection = connection
        self.stream = stream
    }

    /// Answers with the message `produce` returns, or the status it throws;
    /// `produce` runs on the connection's loop, so encoding the answer costs
    /// the answering thread (the Raft loop's) nothing. Always through the
    /// loop's queue, even when called on the loop: an answer while the
    /// callback still runs must not end the call under it.
    public func answer(_ produce: @escaping @Sendable () throws -> [UInt8]) {
        answer(framed: false, produce)
    }

    /// Bytes `answerFramed`'s messages leave free in front (a gRPC frame header).
    public static let headroom = GRPCMessageDeframer.headerBytes

    /// `answer` with a message that `produce` returns after `headroom` bytes
    /// left free for its frame header (`serializedBytes(headroom:)`), so a
    /// large answer is not copied once more to be framed.
    public func answerFramed(_ produce: @escaping @Sendable () throws -> [UInt8]) {
        answer(framed: true, produce)
    }

    private func answer(framed: Bool, _ produce: @escaping @Sendable () throws -> [UInt8]) {
        // With the other answers this thread gives in its batch, if it is in one (`AnswerBatch`).
        AnswerBatch.execute(on: connection.loop) { [self] in
            stream.reply = nil
            var size = 0
            do {
                var response = try produce()
                // Written here, where the answer has no other owner (no copy on write).
                if framed { GRPCMessageDeframer.writeHeader(into: &response) }
                size = response.count - (framed ? GRPCMessageDeframer.headerBytes : 0)
                connection.completeUnary(stream, response, framed: framed)
            } catch {
                connection.finish(stream, .from(error))
            }
            onAnswer?(size)
            onAnswer = nil
            connection.callEnded(stream)
        }
    }

    /// The call ended first (on the loop).
    func cancel() {
        let hook = onCancel
        onCancel = nil
        hook?()
    }
}
