import Foundation

/// Suspends until SIGINT or SIGTERM arrives (graceful shutdown, as etcd).
///
/// The handler only writes a byte to a pipe (async-signal-safe, whichever
/// thread the kernel picks); a `signal-wait` thread blocked on the pipe
/// resumes the waiting task.
enum SignalWaiter {
    static func waitForTermination() async {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            // No pipe: never return; the default action still ends the process.
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
            return
        }
        signalPipeWriteFD = fds[1]
        for sig in [SIGINT, SIGTERM] {
            _ = signal(sig) { _ in
                var byte: UInt8 = 1
                _ = write(signalPipeWriteFD, &byte, 1)
            }
        }
        let readFD = fds[0]
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let t = Thread {
                var byte: UInt8 = 0
                while read(readFD, &byte, 1) < 0 && errno == EINTR {}
                continuation.resume()
            }
            t.name = "signal-wait"
            t.start()
        }
    }
}

/// Written once before the handlers are installed; read by them.
nonisolated(unsafe) private var signalPipeWriteFD: Int32 = -1
