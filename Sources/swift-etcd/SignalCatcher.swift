import Foundation
import Server
import Support

/// SIGTERM and SIGINT, as etcd handles them: the first asks for a graceful
/// stop (`StopRequest`), a second one while that runs exits at once.
///
/// The handler only writes the signal number into a pipe (the self-pipe
/// trick: `write` is async-signal-safe); a thread of ours reads the pipe
/// and does the rest outside signal context. No GCD.
enum SignalCatcher {
    static let handled: [Int32] = [SIGTERM, SIGINT]

    /// Starts the reading thread, then installs the handlers.
    /// `onSecond` runs on the thread before `_exit`.
    static func start(_ stop: StopRequest, onSecond: @escaping @Sendable (String) -> Void) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        signalPipeWriteFD = fds[1]
        let readFD = fds[0]
        let thread = Thread.named("signals") {
            var first = true
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                let name = goName(Int32(byte))
                if first {
                    first = false
                    stop.fire(.signal(name))
                } else {
                    onSecond(name)
                    _exit(128 + Int32(byte))
                }
            }
        }
        thread.start()
        for s in handled {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = signalHandler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(s, &action, nil)
        }
    }

    /// The signal `goName` names (the inverse of `goName(_:)`).
    static func number(goName name: String) -> Int32? {
        handled.first { goName($0) == name }
    }

    /// After the graceful stop, as etcd's osutil.HandleInterrupts: the
    /// process ends by the signal it got (a shell or supervisor sees
    /// 128 + n, `-n` in Python, as with etcd 3.5.1), except as PID 1, which
    /// the kernel does not kill by a signal it has no handler for: there it
    /// exits 0, as etcd does in a container.
    static func endBy(_ signal: Int32) -> Never {
        fflush(stdout)
        fflush(stderr)
        if getpid() != 1 {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = SIG_DFL
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signal)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            raise(signal)  // thread-directed: delivered before raise returns
            _exit(128 + signal)
        }
        exit(0)
    }

    /// Go's `os.Signal.String()` for the signals handled.
    static func goName(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "terminated"
        case SIGINT: return "interrupt"
        default: return "signal \(signal)"
        }
    }
}

/// Written once before the handlers are installed, read in signal context.
nonisolated(unsafe) private var signalPipeWriteFD: Int32 = -1

private func signalHandler(_ signal: Int32) {
    var byte = UInt8(truncatingIfNeeded: signal)
    let saved = errno
    _ = write(signalPipeWriteFD, &byte, 1)
    errno = saved
}
