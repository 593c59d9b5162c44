import Dispatch
import Foundation
import MigconformRun

/// SIGINT and SIGTERM during a run: the first asks the runner to stop (the device is then reset and the report
/// written, marked interrupted); a second one exits at once, leaving the journal to rebuild the report from.
///
/// A second signal less than ``sameRequest`` seconds after the first is the same request: `timeout(1)` sends its
/// signal to the command and then to the command's process group, so the command gets it twice at once.
final class SignalStop {
    private let sources: [any DispatchSourceSignal]
    static let sameRequest = 0.5

    /// Signals taken so far and when the first came (monotonic seconds), shared with the handlers.
    private final class Count: Sendable {
        let value = Guarded((count: 0, first: 0.0))
    }

    init(_ runner: Runner) {
        var sources: [any DispatchSourceSignal] = []
        let received = Count()
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let now = ChildProcessClock.now()
                let n = received.value.withLock { r -> Int in
                    if r.count == 0 { r.first = now } else if now - r.first < Self.sameRequest { return 0 }
                    r.count += 1
                    return r.count
                }
                if n == 0 { return }
                if n > 1 {
                    Terminal.err(
                        "\nmigconform: \(name) again: exiting now; rebuild the report with 'migconform report "
                            + "--from-journal'"
                    )
                    _exit(128 + sig)
                }
                Terminal.errMessage(
                    "\nmigconform: ",
                    "\(name): stopping after the device is reset (\(name) again, half a second or more later, to exit "
                        + "at once)")
                runner.stop("interrupted by \(name)")
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
